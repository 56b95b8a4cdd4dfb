//! Tests of the fetch code against an in-process HTTP server on 127.0.0.1 and fixture files made
//! here: no external network.

mod fixtures;
mod server;

mod api_tests;
mod archive_tests;
mod download_tests;
mod import_tests;
