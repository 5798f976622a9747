//! MRT reader tests.
