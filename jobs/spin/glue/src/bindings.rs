//! Spin's standard key-value and variables interfaces, and the job types the entries hand
//! over, generated once and shared through `with:` by every Spin-side component.

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package cordial:spin-glue;
        world glue {
            import cordial:jobs/types@0.2.0;
            import cordial:jobs/outcomes@0.2.0;
            import cordial:jobs/items@0.2.0;
            import wasi:keyvalue/store@0.2.0-draft2;
            import wasi:keyvalue/atomics@0.2.0-draft2;
            import wasi:keyvalue/batch@0.2.0-draft2;
            import wasi:config/store@0.2.0-draft-2024-09-27;
        }
    ",
    world: "cordial:spin-glue/glue",
    generate_all,
});
