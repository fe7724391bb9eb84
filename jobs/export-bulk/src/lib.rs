//! The `export-bulk` component: pending audience members → CSV files on SFTP imported by
//! Cordial. Glue only: the run is `cordial_jobs::bulk::job::run`.

cordial_guest::scheduled_component!(export_bulk);
