//! The BGP session state machine (RFC 4271 §8), free of I/O. Built in the FSM work.
