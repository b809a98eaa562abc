//! std adapter for [`authcore`]: clocks, HTTPS refresh with single flight, retries and a circuit
//! breaker, durable token stores, an authorized API client and the `authcore` command-line tool.
//! It uses only authcore's public API.

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
