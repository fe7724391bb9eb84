//! Bindings for the capability interfaces, generated from `wit/` once for all components.

wit_bindgen::generate!({
    path: "../../wit",
    inline: "
        package cordial:guest;
        world capabilities {
            import cordial:jobs/types@0.1.0;
            import cordial:jobs/outcomes@0.1.0;
            import cordial:jobs/log@0.1.0;
            import cordial:jobs/state@0.1.0;
            import cordial:jobs/sftp@0.1.0;
            import cordial:jobs/platform@0.1.0;
        }
    ",
    world: "cordial:guest/capabilities",
    generate_all,
});
