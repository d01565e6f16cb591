//! The generated documents in docs/ match the code they come from.

#[test]
fn register_map_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/registers.md");
    let on_disk = std::fs::read_to_string(path).expect("docs/registers.md");
    assert!(
        on_disk == overlay_nic_regmap::document(),
        "docs/registers.md is stale: run `cargo run --bin overlay-nic -- regmap --out docs/registers.md`"
    );
}
