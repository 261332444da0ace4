//! `local`'s tests, one binary: the API contract (`contract`), bad input, isolation and restarts
//! through the gateway (`reliability`), the function binaries under AWS's emulator
//! (`runtime_harness`), and the processes `local` starts and stops (`processes`).

mod common;

mod cases {
    mod contract;
    mod processes;
    mod reliability;
    mod runtime_harness;
}
