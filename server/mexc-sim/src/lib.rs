//! A local MEXC-compatible spot venue (under construction).
