//! std adapter for [`authcore`]: clocks, the command-line tool and (later) HTTP refresh, token
//! stores and server middleware. It uses only authcore's public API.

pub mod cli;
pub mod clock;
pub mod random;
