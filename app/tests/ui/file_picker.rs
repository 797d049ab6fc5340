//! The file picker, headless and without a homeserver: browse into a folder and back,
//! the extension filter, a typed name that does not exist, picking a row; save mode with
//! the suggested name, the overwrite question (keep, then a new name) and cancel.

use std::{cell::RefCell, path::PathBuf, rc::Rc};

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{
    FilePicker, Language,
    file_picker::{self, Mode},
};
use slint::{ComponentHandle, Model};

type Picked = Rc<RefCell<Option<Option<PathBuf>>>>;

fn recorder(picked: &Picked) -> impl FnOnce(Option<PathBuf>) + 'static {
    let picked = picked.clone();
    move |p| *picked.borrow_mut() = Some(p)
}

fn names(app: &kontor::ui::App) -> Vec<String> {
    app.window
        .global::<FilePicker>()
        .get_entries()
        .iter()
        .map(|e| e.name.to_string())
        .collect()
}

pub fn picker_browses_filters_picks_and_asks_before_overwriting() {
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let root = h.dir.path().join("files");
    std::fs::create_dir_all(root.join("Angebote")).unwrap();
    std::fs::write(root.join("Angebote/angebot-7.pdf"), vec![1u8; 2000]).unwrap();
    std::fs::write(root.join("notes.txt"), b"x").unwrap();
    std::fs::write(root.join("kunden.vcf"), b"BEGIN:VCARD").unwrap();
    std::fs::write(root.join(".hidden.vcf"), b"").unwrap();
    let root = std::fs::canonicalize(&root).unwrap();

    run_story(async move {
        let picked: Picked = Rc::default();
        file_picker::open(
            &app.window,
            Mode::Open {
                filters: vec!["pdf".into(), "VCF".into()],
            },
            Some(&root),
            recorder(&picked),
        );
        assert!(file_picker::is_open(&app.window));
        wait_for("the listing", 10, || {
            (names(&app) == ["Angebote", "kunden.vcf"]).then_some(())
        })
        .await;
        assert!(shows_text(&app, "Shows only .pdf, .vcf"));
        assert!(find(&app, "notes.txt", AccessibleRole::Button).is_empty());

        // Into the folder, where the file shows its size, and back up.
        press(&app, "Angebote").await;
        let row = wait_for("the quote", 10, || {
            find(&app, "angebot-7.pdf", AccessibleRole::Button)
                .into_iter()
                .next()
        })
        .await;
        assert_eq!(row.accessible_description().as_deref(), Some("2.0 kB"));
        assert_eq!(
            app.window.global::<FilePicker>().get_dir(),
            root.join("Angebote").display().to_string()
        );
        press(&app, "Parent folder").await;
        wait_for("the parent again", 10, || {
            (names(&app) == ["Angebote", "kunden.vcf"]).then_some(())
        })
        .await;

        // A name that is not there is refused, and nothing is picked.
        fill(&app, "File name", "missing.pdf").await;
        press(&app, "Open").await;
        wait_for("the refusal", 10, || {
            shows_text(&app, "There is no such file.").then_some(())
        })
        .await;
        assert!(picked.borrow().is_none());

        // A typed folder path opens that folder.
        fill(&app, "File name", root.join("Angebote").to_str().unwrap()).await;
        press(&app, "Open").await;
        wait_for("the typed folder", 10, || {
            (names(&app) == ["angebot-7.pdf"]).then_some(())
        })
        .await;

        // Choosing a row picks the file and closes the picker.
        press(&app, "angebot-7.pdf").await;
        assert_eq!(
            picked.borrow_mut().take(),
            Some(Some(root.join("Angebote/angebot-7.pdf")))
        );
        assert!(!file_picker::is_open(&app.window));

        // Save mode: the suggested name exists, so the picker asks; "Keep it" picks nothing.
        file_picker::open(
            &app.window,
            Mode::Save {
                name: "kunden.vcf".into(),
            },
            Some(&root),
            recorder(&picked),
        );
        wait_for("the save listing", 10, || {
            (names(&app) == ["Angebote", "kunden.vcf", "notes.txt"]).then_some(())
        })
        .await;
        assert_eq!(
            app.window.global::<FilePicker>().get_file_name(),
            "kunden.vcf"
        );
        press(&app, "Save").await;
        wait_for("the overwrite question", 10, || {
            shows_text(&app, "\"kunden.vcf\" already exists. Replace it?").then_some(())
        })
        .await;
        press(&app, "Keep it").await;
        assert!(picked.borrow().is_none(), "nothing picked after keeping");
        assert!(file_picker::is_open(&app.window));
        fill(&app, "File name", "kunden-neu.vcf").await;
        press(&app, "Save").await;
        assert_eq!(
            wait_for("the new name picked", 10, || picked.borrow_mut().take()).await,
            Some(root.join("kunden-neu.vcf"))
        );

        // Replace after the question returns the existing path.
        file_picker::open(
            &app.window,
            Mode::Save {
                name: "notes.txt".into(),
            },
            Some(&root),
            recorder(&picked),
        );
        press(&app, "Save").await;
        press(&app, "Replace").await;
        assert_eq!(
            wait_for("the replaced path", 10, || picked.borrow_mut().take()).await,
            Some(root.join("notes.txt"))
        );

        // Cancel tells the caller None.
        file_picker::open(
            &app.window,
            Mode::Open { filters: vec![] },
            None,
            recorder(&picked),
        );
        press(&app, "Cancel").await;
        assert_eq!(picked.borrow_mut().take(), Some(None));
        assert!(!file_picker::is_open(&app.window));
        app.shutdown().await;
    });
}
