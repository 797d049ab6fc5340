//! The business link at 360 px, against a real Synapse: Settings → Business link shows the
//! account's matrix.to link as selectable text and its QR code; the test photographs the
//! window (Slint's software renderer) and reads the code off the screen as a phone's
//! camera would; "Export PNG" through the file picker writes a file that decodes to the
//! same link.

use std::os::unix::fs::PermissionsExt;

use crate::{
    qr::{codes_in_png, read_codes},
    support::*,
};
use i_slint_backend_testing::{AccessibleRole, TestingBackend, TestingBackendOptions};
use kontor::ui::{BusinessLink, FilePicker, Language, Screen, Session};
use kontor_testkit::Synapse;
use slint::ComponentHandle;

/// The QR codes in what the window shows now.
fn codes_on_screen(app: &kontor::ui::App) -> Vec<String> {
    let shot = app.window.window().take_snapshot().expect("a snapshot");
    let (w, h) = (shot.width() as usize, shot.height() as usize);
    let px = shot.as_slice();
    read_codes(w, h, |x, y| {
        let p = px[y * w + x];
        ((u32::from(p.r) * 299 + u32::from(p.g) * 587 + u32::from(p.b) * 114) / 1000) as u8
    })
}

pub fn the_business_qr_code_decodes_to_the_link_and_exports() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let url = hs.base_url.clone();
    let h = Harness::new();
    // The testing backend of the other stories, with a real rasteriser so the window can
    // be photographed.
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: false,
        threading: true,
        renderer_name: Some("software".into()),
    })))
    .expect("platform");
    let app = h.app(Language::English);
    let export = h.dir.path().join("card.png");

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, "anna passphrase").await;
        let session = app.window.global::<Session>();
        let link = app.window.global::<BusinessLink>();
        let want = format!("https://matrix.to/#/{}", anna.user_id);

        press(&app, "Settings").await;
        press(&app, "Business link").await;
        wait_for("the business link", 10, || {
            (session.get_screen() == Screen::BusinessLink).then_some(())
        })
        .await;
        // The link, as text that can be selected and copied.
        let text = one(&app, "Your link", AccessibleRole::TextInput).await;
        assert_eq!(text.accessible_value().as_deref(), Some(want.as_str()));
        assert_eq!(text.accessible_read_only(), Some(true));
        // The QR code is drawn off the UI thread; once shown, the screen reads as the link.
        wait_for("the QR code", 10, || {
            (link.get_qr().size().width > 0).then_some(())
        })
        .await;
        let on_screen = codes_on_screen(&app);
        assert_eq!(on_screen, vec![want.clone()], "the code the window shows");

        // Export PNG: the picker suggests a name; the file goes where the user says.
        press(&app, "Export PNG").await;
        wait_for("the save picker", 10, || {
            (app.window.global::<FilePicker>().get_file_name() == "kontor-link.png").then_some(())
        })
        .await;
        fill(&app, "File name", export.to_str().unwrap()).await;
        press(&app, "Save").await;
        wait_for("exported", 30, || {
            (link.get_exported_file() == export.display().to_string()).then_some(())
        })
        .await;
        assert!(shows_text(
            &app,
            &format!("Exported to {}", export.display())
        ));
        assert_eq!(codes_in_png(&export), vec![want.clone()]);
        let mode = std::fs::metadata(&export).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "private like every export");

        // Back to the settings.
        press(&app, "Back").await;
        wait_for("the settings", 10, || {
            (session.get_screen() == Screen::Settings).then_some(())
        })
        .await;
        app.shutdown().await;
    });
}
