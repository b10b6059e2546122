//! The ASoC client's page decoder (`{"Items": [...], "Count": n}`): any bytes give the
//! items or a reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = asoc::paging::parse_envelope(data);
});
