//! The `import-activity` component: Cordial contact activity → the `cordial_activity`
//! stream. Glue only: the run is `cordial_jobs::activity::job::run`.

cordial_guest::scheduled_component!(import_activity);
