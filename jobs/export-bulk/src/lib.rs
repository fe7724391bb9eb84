//! The `export-bulk` component: pending audience members → CSV files on SFTP imported by
//! Cordial. Glue only: the run is `cordial_jobs::bulk::job::run`.

cordial_guest::scheduled_component!(
    export_bulk,
    cordial_jobs::settings::JobKind::ExportBulk,
    |env| cordial_jobs::bulk::job::run(
        env,
        &mut cordial_guest::SftpFiles,
        &mut cordial_guest::PlatformMembers
    )
);
