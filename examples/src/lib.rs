//! The authcore end-to-end demo as a library: the `demo` binary prints its timeline, and the
//! workspace tests (`tests/tests/demo.rs`) run it and check its [`Summary`].
//!
//! - [`demo`]: the timeline (sign-in, session reads, silent refresh with rotation, concurrent
//!   reads, revocation, sign-out) over the Auth.js session pipeline of `authcore::session`.
//! - [`token_server`]: an OAuth token endpoint on `127.0.0.1`, inside the process.
//! - [`transport`]: refresh requests over authcore's HTTP/1.1 exchange on a std `TcpStream`.
//! - [`single_flight`]: one token request per refresh token for concurrent reads.
//! - [`random`]: the OS random source (authcore-std's).

pub mod demo;
pub mod random;
pub mod single_flight;
pub mod token_server;
pub mod transport;

pub use demo::{run, ClientAuthMethod, DemoError, Options, Provider, Summary};
