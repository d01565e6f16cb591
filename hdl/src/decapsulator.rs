//! RX decapsulator (being written): strips the outer header and hands each
//! frame to the functions in its descriptor's `dest` mask.
