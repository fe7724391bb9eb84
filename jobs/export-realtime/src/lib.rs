//! The `export-realtime` component: audience events → Cordial contacts and list
//! membership. Glue only: the call is `cordial_jobs::realtime::job::deliver`.

cordial_guest::event_component!(export_realtime);
