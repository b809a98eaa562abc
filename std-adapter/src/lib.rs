//! std adapter for authcore.
