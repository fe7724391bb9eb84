//! Bindings for the interfaces a job imports besides WASI's core (the `wasip2` crate has
//! those), generated from `wit/` once for all components and shared through `with:`.

wit_bindgen::generate!({
    path: "../../wit",
    inline: "
        package cordial:guest;
        world capabilities {
            import cordial:jobs/types@0.2.0;
            import cordial:jobs/outcomes@0.2.0;
            import cordial:jobs/items@0.2.0;
            import cordial:jobs/sftp@0.2.0;
            import cordial:jobs/streams@0.2.0;
            import cordial:jobs/members@0.2.0;
            import wasi:keyvalue/store@0.2.0-draft2;
            import wasi:config/store@0.2.0-draft-2024-09-27;
        }
    ",
    world: "cordial:guest/capabilities",
    generate_all,
});
