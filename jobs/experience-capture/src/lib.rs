//! The `experience-capture` component: experience submissions → Cordial contacts under the
//! job's opt-in and region policy. Glue only: the call is `cordial_jobs::capture::job::submit`.

cordial_guest::event_component!(experience_capture);
