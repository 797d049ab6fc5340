//! A private X server for the UI runs, killed when the bench ends.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub(crate) struct Xvfb {
    pub(crate) display: String,
    child: Child,
}

impl Xvfb {
    /// A private X server on the first free display from :140.
    pub(crate) fn start() -> Xvfb {
        for n in 140..200 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let child = Command::new("Xvfb")
                .arg(format!(":{n}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (run scripts/bench-setup.sh)");
            let socket = format!("/tmp/.X11-unix/X{n}");
            let t = Instant::now();
            while !Path::new(&socket).exists() && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
            return Xvfb {
                display: format!(":{n}"),
                child,
            };
        }
        panic!("no free X display");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
