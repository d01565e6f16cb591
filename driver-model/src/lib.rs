//! placeholder

pub mod registers;
