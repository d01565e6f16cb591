//! A VM's network stack (placeholder; being written).
