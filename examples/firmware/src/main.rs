//! The firmware image for a Cortex-M4F (`thumbv7em-none-eabihf`, memory map of an STM32F4 in
//! `memory.x`): one pass of [`authcore_firmware::demo::run`] over static buffers.
//!
//! - No heap, no formatting: the panic handler parks the core without reading its message, and
//!   the outcome is a status word (`0` running, `1` ok, `0x100 | code` failed).
//! - The device clock is simulated by the demo's fixed instant; a real board reads its RTC and
//!   sleeps (WFI) until the refresh deadline.
//! - With feature `qemu` the image measures its peak stack per step (stack painting) and
//!   reports it over semihosting; that build is for `size-report.sh` only.
//!
//! On the host this file builds to a small program that runs the same pass and prints the
//! report, so `cargo run --target <host>` shows what the device does.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod device {
    use core::hint::black_box;
    use core::panic::PanicInfo;

    use authcore_firmware::demo::{self, Buffers};
    use authcore_firmware::Machine;
    use cortex_m_rt::entry;

    /// The device clock (simulated: the instant the demo inputs are valid at).
    fn read_clock() -> i64 {
        black_box(demo::NOW)
    }

    /// Sleeps until the clock reads `t` (simulated: the clock jumps there).
    fn sleep_until(t: i64) -> i64 {
        black_box(t)
    }

    #[entry]
    fn main() -> ! {
        // cortex-m-rt turns these into `&'static mut` references, safely: `main` runs once.
        static mut BUFFERS: Buffers = Buffers::new();
        static mut MACHINE: Machine = demo::machine();

        #[cfg(not(feature = "qemu"))]
        {
            let status: u32 = match demo::run(BUFFERS, MACHINE, read_clock(), &mut sleep_until) {
                Ok(report) => {
                    black_box(report);
                    1
                }
                Err(e) => 0x100 | u32::from(e.code()),
            };
            black_box(status);
            loop {
                core::hint::spin_loop();
            }
        }

        #[cfg(feature = "qemu")]
        crate::qemu::measure_and_exit(BUFFERS, MACHINE, read_clock(), &mut sleep_until)
    }

    /// Parks the core. The message is never read, so no formatting code is linked for it.
    #[panic_handler]
    fn panic(_info: &PanicInfo<'_>) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}

/// Stack measurement under QEMU (feature `qemu`): each step runs after the free stack below
/// the caller has been painted, and the lowest overwritten word gives that step's peak.
#[cfg(all(target_os = "none", feature = "qemu"))]
mod qemu {
    #![allow(
        unsafe_code,
        reason = "reads and writes the unused stack region by address"
    )]

    use core::ptr;

    use authcore_firmware::demo::{self, Buffers};
    use authcore_firmware::Machine;
    use cortex_m_semihosting::{debug, hprintln};

    const PAINT: u32 = 0xCCCC_CCCC;
    /// Left unpainted below the measuring frame (it keeps its spilled registers there).
    const GUARD: usize = 64;

    extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }

    fn stack_bounds() -> (usize, usize) {
        // Only the addresses of the linker symbols are taken (safe for extern statics).
        let (top, bottom) = (&raw const _stack_start, &raw const _stack_end);
        (top as usize, bottom as usize)
    }

    /// Calls `f` in a frame of its own, below the measuring frame, so none of `f`'s locals can
    /// be hoisted into the measuring frame (above the stack pointer read there).
    #[inline(never)]
    fn call<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// Runs `f` with the stack below the current frame painted; returns its result, the bytes
    /// of stack it used below this frame, and the lowest address it reached.
    #[inline(never)]
    fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, usize) {
        let sp = cortex_m::register::msp::read() as usize;
        let (_, bottom) = stack_bounds();
        let top = sp - GUARD;
        let mut p = bottom;
        while p < top {
            // SAFETY: [bottom, sp - GUARD) is unused stack (no interrupts are enabled), word
            // aligned, inside RAM.
            unsafe { ptr::write_volatile(p as *mut u32, PAINT) };
            p += 4;
        }
        let r = call(f);
        let mut low = bottom;
        // SAFETY: as above; reading back the painted region.
        while low < top && unsafe { ptr::read_volatile(low as *const u32) } == PAINT {
            low += 4;
        }
        (r, sp - low, low)
    }

    pub(crate) fn measure_and_exit(
        bufs: &'static mut Buffers,
        machine: &'static mut Machine,
        now: i64,
        sleep_until: &mut impl FnMut(i64) -> i64,
    ) -> ! {
        let (stack_top, _) = stack_bounds();
        let mut lowest = usize::MAX;
        let mut ok = true;

        let (r, used, low) = measure(|| demo::session_step(bufs, machine, now));
        lowest = lowest.min(low);
        ok &= r.is_ok();
        hprintln!("stack verify_hs256+next_refresh_deadline {}", used);
        let deadline = r.map(|(_, d)| d).unwrap_or(now);

        #[cfg(feature = "jwe")]
        {
            let (r, used, low) = measure(|| demo::cookie_step(bufs, now));
            lowest = lowest.min(low);
            ok &= r.is_ok();
            hprintln!("stack open_authjs_cookie {}", used);
        }

        let later = sleep_until(deadline).max(now);
        let (r, used, low) = measure(|| demo::refresh_step(bufs, machine, later));
        lowest = lowest.min(low);
        ok &= r.is_ok();
        hprintln!("stack refresh_exchange {}", used);

        hprintln!("stack peak_total {}", stack_top - lowest);
        hprintln!("result {}", if ok { "ok" } else { "error" });
        debug::exit(if ok {
            debug::EXIT_SUCCESS
        } else {
            debug::EXIT_FAILURE
        });
        loop {
            core::hint::spin_loop();
        }
    }
}

/// Host build: the same pass, printed.
#[cfg(not(target_os = "none"))]
fn main() {
    use authcore_firmware::demo;

    let mut bufs = Box::new(demo::Buffers::new());
    let mut machine = Box::new(demo::machine());
    match demo::run(&mut bufs, &mut machine, demo::NOW, &mut |t| t) {
        Ok(report) => println!("{report:#?}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
