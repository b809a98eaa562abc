//! std adapter for [`authcore`]: clocks, the command-line tool and (later) HTTP refresh, token
//! stores and server middleware. It uses only authcore's public API.

pub mod authorized;
pub mod breaker;
pub mod cli;
pub mod clock;
pub mod http;
pub mod random;
pub mod refresh;
pub mod refresh_cli;
pub mod secret;
pub mod single_flight;
pub mod store;
