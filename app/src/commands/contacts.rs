//! `kontor contacts …`: the split contact book (kontor-contacts) on the command line.
//!
//! The book lives in `<data-dir>/contacts/` and shares the profile's passphrase, so a
//! freelancer has one secret. Everything here is a thin layer over `ContactBook`: read
//! the passphrase, unlock, call one method, print. Contact data (names, numbers,
//! addresses) goes to stdout, where the user asked for it, and never into `tracing`.
//!
//! The contacts API is synchronous (sled, Argon2id). It runs directly on the thread that
//! drives `block_on`: no worker thread is blocked by it, and the tasks that must stay
//! responsive meanwhile (the Ctrl-C listener of `import`) run on the runtime's workers.

mod discover;
mod import;
mod proof;

use std::{
    io::{IsTerminal, Write},
    path::Path,
};

use anyhow::{Context, Result};
use kontor::service::{export, fs, kdf, quotes::Quotes};
use kontor_contacts::{Book, ConsentStatus, Contact, ContactBook};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{Ctx, insecure_fast_kdf};
use crate::{
    cli::{AddConsent, BookArg, ContactsAction, ExportFormat, ReportFormat},
    exit::{FAILURE, Fail, USAGE},
    input, output,
};

/// Runs one `kontor contacts` subcommand.
pub async fn contacts(ctx: &Ctx, action: ContactsAction) -> Result<()> {
    match action {
        ContactsAction::Import {
            file,
            consent,
            purpose,
            evidence,
            region,
        } => import::import(ctx, &file, consent, purpose, evidence, region).await,
        ContactsAction::List { book } => list(ctx, book),
        ContactsAction::Show { id } => show(ctx, &id),
        ContactsAction::Add {
            name,
            phone,
            email,
            org,
            note,
            label,
            consent,
            purpose,
            evidence,
        } => add(
            ctx,
            kontor_contacts::NewContact {
                display_name: name,
                organisation: org,
                phones: phone,
                emails: email,
                note,
                labels: label,
            },
            consent,
            purpose,
            evidence,
        ),
        ContactsAction::Grant {
            id,
            purpose,
            evidence,
        } => grant(ctx, &id, &purpose, evidence.as_deref()),
        ContactsAction::Withdraw { id, evidence } => withdraw(ctx, &id, evidence.as_deref()),
        ContactsAction::Export { id, format, out } => export(ctx, &id, format, out.as_deref()),
        ContactsAction::Proof {
            id,
            out,
            format,
            lang,
        } => proof::proof(ctx, &id, &out, format, lang),
        ContactsAction::Link { id, user } => link(ctx, &id, &user),
        ContactsAction::Erase { id, yes } => erase(ctx, &id, yes),
        ContactsAction::Report { format, out } => report(ctx, format, out.as_deref()),
        ContactsAction::Discover { identity_server } => {
            discover::discover(ctx, identity_server).await
        }
    }
}

/// True once `import` or `add` created the book in `dir`.
fn book_exists(dir: &Path) -> bool {
    dir.join("work").exists() || dir.join("private").exists()
}

/// Fails (exit 1, before any passphrase is asked for) when there is no book yet: only
/// `import` and `add` create one, so a typo in `--data-dir` never leaves empty stores
/// behind.
pub(super) fn require_book(ctx: &Ctx) -> Result<()> {
    let dir = ctx.contacts_dir();
    if book_exists(&dir) {
        return Ok(());
    }
    Err(Fail::new(
        FAILURE,
        format!(
            "no contact book in {} yet; create it with `kontor contacts import` or `kontor contacts add`",
            dir.display()
        ),
    )
    .into())
}

/// Reads the profile passphrase (KONTOR_PASSPHRASE, a stdin line or a prompt).
pub(super) fn passphrase() -> Result<Zeroizing<String>> {
    let pass = input::secret(input::PASSPHRASE)?;
    if pass.is_empty() {
        return Err(kontor_core::Error::EmptyPassphrase.into());
    }
    Ok(pass)
}

/// Unlocks both books, creating them on first use.
///
/// A new book must get the profile's passphrase, not whatever was typed: with a profile
/// present, the passphrase is checked against it first (wrong → exit 3, nothing
/// created). Existing books check the passphrase themselves.
pub(super) fn open_book(ctx: &Ctx, passphrase: &str) -> Result<ContactBook> {
    let dir = ctx.contacts_dir();
    if !book_exists(&dir) && ctx.has_profile() {
        kontor_core::Profile::open(ctx.profile_dir(), passphrase)
            .context("the contact book uses the profile passphrase")?;
    }
    let opts = kdf::contacts(insecure_fast_kdf());
    ContactBook::open_with(&dir, passphrase, opts).context("cannot open the contact book")
}

/// For `login` creating a profile beside an existing contact book: the profile must get
/// the book's passphrase (one secret for both), so a different one is refused (exit 3)
/// before the profile is created. Opens the work book only: one key derivation.
pub fn check_book_passphrase(ctx: &Ctx, passphrase: &str) -> Result<()> {
    let dir = ctx.contacts_dir();
    if !book_exists(&dir) {
        return Ok(());
    }
    kontor_contacts::WorkBook::open(&dir, passphrase)
        .map(drop)
        .context("the profile must use the contact book's passphrase")
}

/// [`require_book`], then the passphrase, then [`open_book`]: every command that only
/// works on contacts already there.
fn existing_book(ctx: &Ctx) -> Result<ContactBook> {
    require_book(ctx)?;
    open_book(ctx, &passphrase()?)
}

/// A contact as `list`, `show`, `add`, `grant` and `withdraw` print it in JSON: the
/// stored record plus where it is and its current status, so scripts need not derive
/// either from the history.
#[derive(Serialize)]
struct Entry<'a> {
    book: Book,
    status: ConsentStatus,
    #[serde(flatten)]
    contact: &'a Contact,
}

impl<'a> Entry<'a> {
    fn new(book: Book, contact: &'a Contact) -> Entry<'a> {
        Entry {
            book,
            status: contact.consent.status(),
            contact,
        }
    }
}

/// A phone number for people: the E.164 form, or the raw text marked as not valid.
fn phone(p: &kontor_contacts::Phone) -> String {
    match &p.e164 {
        Some(e) => e.clone(),
        None => format!("{} (not a valid number)", p.raw),
    }
}

/// One list line: id, book, status, then name, organisation, numbers, addresses.
fn line(book: Book, c: &Contact) -> String {
    // Padding needs strings: the Display impls of Book and ConsentStatus ignore widths.
    let mut s = format!(
        "{}  {:<7}  {:<9}  {}",
        c.id,
        book.name(),
        c.consent.status().to_string(),
        one_line(&c.display_name)
    );
    if let Some(o) = &c.organisation {
        s.push_str(&format!(" ({})", one_line(o)));
    }
    for p in &c.phones {
        s.push_str(&format!(" · {}", p.e164.as_deref().unwrap_or(&p.raw)));
    }
    for e in &c.emails {
        s.push_str(&format!(" · {}", e.address));
    }
    if let Some(m) = &c.matrix_id {
        s.push_str(&format!(" · {m}"));
    }
    s
}

/// Keeps one contact per line even when a name or note holds a line break.
/// ` (work)` after a value whose source gave it a type label, else nothing.
fn kind_label(kind: Option<&str>) -> String {
    kind.map(|k| format!(" ({k})")).unwrap_or_default()
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// `kontor contacts list [--book work|private]`
fn list(ctx: &Ctx, book: Option<BookArg>) -> Result<()> {
    let contacts = existing_book(ctx)?;
    let books: &[Book] = match book {
        Some(BookArg::Work) => &[Book::Work],
        Some(BookArg::Private) => &[Book::Private],
        None => &[Book::Work, Book::Private],
    };
    let mut all = Vec::new();
    for &b in books {
        let list = contacts
            .list(b)
            .with_context(|| format!("cannot read the {b} book"))?;
        all.extend(list.into_iter().map(|c| (b, c)));
    }
    if ctx.json {
        let entries: Vec<Entry> = all.iter().map(|(b, c)| Entry::new(*b, c)).collect();
        return output::json(&entries);
    }
    if all.is_empty() {
        eprintln!("no contacts");
    }
    for (b, c) in &all {
        println!("{}", line(*b, c));
    }
    Ok(())
}

/// `kontor contacts show ID`
fn show(ctx: &Ctx, id: &str) -> Result<()> {
    let (book, c) = existing_book(ctx)?.get(id)?;
    if ctx.json {
        return output::json(&Entry::new(book, &c));
    }
    println!("id:        {}", c.id);
    println!("name:      {}", one_line(&c.display_name));
    println!("book:      {book} (consent {})", c.consent.status());
    if let Some(o) = &c.organisation {
        println!("org:       {}", one_line(o));
    }
    if let Some(t) = &c.title {
        println!("title:     {}", one_line(t));
    }
    for p in &c.phones {
        let kind = kind_label(p.kind.as_deref());
        println!("phone:     {}{kind}", phone(p));
    }
    for e in &c.emails {
        let kind = kind_label(e.kind.as_deref());
        println!("email:     {}{kind}", e.address);
    }
    for a in &c.addresses {
        let kind = kind_label(a.kind.as_deref());
        let parts: Vec<String> = a
            .parts()
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| one_line(p))
            .collect();
        println!("address:   {}{kind}", parts.join(", "));
    }
    if let Some(n) = &c.note {
        println!("note:      {}", n.replace('\n', " ⏎ "));
    }
    if !c.labels.is_empty() {
        println!("labels:    {}", c.labels.join(", "));
    }
    if let Some(m) = &c.matrix_id {
        println!("matrix id: {m}");
    }
    println!("created:   {}", c.created);
    println!("updated:   {}", c.updated);
    println!("consent history:");
    for e in c.consent.history() {
        let purpose = e
            .purpose
            .as_deref()
            .map(|p| format!(" for {p:?}"))
            .unwrap_or_default();
        let evidence = e
            .evidence
            .as_ref()
            .map(|v| format!("; evidence: {}", one_line(&v.to_string())))
            .unwrap_or_default();
        println!("  {} {}{purpose} ({}){evidence}", e.at, e.status, e.source);
    }
    Ok(())
}

/// `kontor contacts add --name … [--consent granted --purpose …]`
fn add(
    ctx: &Ctx,
    new: kontor_contacts::NewContact,
    consent: AddConsent,
    purpose: Option<String>,
    evidence: Option<String>,
) -> Result<()> {
    // Usage mistakes are caught before the passphrase is asked for or a book created.
    if new.display_name.trim().is_empty() {
        return Err(Fail::new(USAGE, "--name must not be empty").into());
    }
    if consent == AddConsent::None && (purpose.is_some() || evidence.is_some()) {
        return Err(Fail::new(USAGE, "--purpose and --evidence need --consent granted").into());
    }
    let contacts = open_book(ctx, &passphrase()?)?;
    let purpose = purpose.unwrap_or_else(|| kontor_contacts::DEFAULT_PURPOSE.to_owned());
    let grant = (consent == AddConsent::Granted).then_some((purpose.as_str(), evidence.as_deref()));
    let c = contacts.add(new, grant)?;
    // Position, not the number: stderr may end up in a log file.
    for (i, p) in c.phones.iter().enumerate() {
        if p.e164.is_none() {
            eprintln!(
                "note: phone number {} is not a valid number; kept as written",
                i + 1
            );
        }
    }
    let book = kontor_contacts::book_for(c.consent.status());
    if ctx.json {
        return output::json(&Entry::new(book, &c));
    }
    println!("added {} ({}) to the {book} book", c.display_name, c.id);
    Ok(())
}

/// `kontor contacts grant ID --purpose TEXT [--evidence TEXT]`
fn grant(ctx: &Ctx, id: &str, purpose: &str, evidence: Option<&str>) -> Result<()> {
    let c = existing_book(ctx)?.grant(id, purpose, evidence)?;
    if ctx.json {
        return output::json(&Entry::new(Book::Work, &c));
    }
    println!(
        "consent recorded for {} ({}): now in the work book",
        c.display_name, c.id
    );
    Ok(())
}

/// `kontor contacts withdraw ID [--evidence TEXT]`
fn withdraw(ctx: &Ctx, id: &str, evidence: Option<&str>) -> Result<()> {
    let c = existing_book(ctx)?.withdraw(id, evidence)?;
    if ctx.json {
        return output::json(&Entry::new(Book::Private, &c));
    }
    println!(
        "consent withdrawn for {} ({}): now in the private book",
        c.display_name, c.id
    );
    Ok(())
}

/// The device's quote store (`<data-dir>/quotes`), for a person's export and erasure.
///
/// Its key derives from the profile, so it is opened with the passphrase the command
/// already read (one secret, asked once). `None` when this device has no profile or
/// never kept a quote: then the person has no quotes here. A store that exists but does
/// not open (in use by the running app, damaged) is an error, not an export that
/// silently leaves the quotes out.
fn device_quotes(ctx: &Ctx, passphrase: &str) -> Result<Option<Quotes>> {
    let dir = ctx.data_dir.join("quotes");
    if !ctx.has_profile() || !dir.exists() {
        return Ok(None);
    }
    let profile = kontor_core::Profile::open(ctx.profile_dir(), passphrase)
        .context("the quotes use the profile passphrase")?;
    let quotes = Quotes::open(&dir, profile.business_key()).context("cannot open the quotes")?;
    Ok(Some(quotes))
}

/// `kontor contacts export ID [--format json|vcard] [--out PATH]`
fn export(ctx: &Ctx, id: &str, format: ExportFormat, out: Option<&Path>) -> Result<()> {
    require_book(ctx)?;
    let pass = passphrase()?;
    let contacts = open_book(ctx, &pass)?;
    let (_, c) = contacts.get(id)?;
    // The formats are the service's (one rule with the app); clap already refused
    // any other name.
    let (name, format) = match format {
        ExportFormat::Json => ("json", export::ExportFormat::Json),
        ExportFormat::Vcard => ("vcard", export::ExportFormat::Vcard),
    };
    // Only the JSON export carries quotes: the vCard needs no second key derivation.
    let quotes = match format {
        export::ExportFormat::Json => device_quotes(ctx, &pass)?,
        export::ExportFormat::Vcard => None,
    };
    let content = format.render(&contacts, quotes.as_ref(), &c.id)?;
    emit(ctx, name, content, out, json!({ "id": c.id }))?;
    if out.is_some() && !ctx.json {
        println!("exported {} ({}) as {name}", c.display_name, c.id);
    }
    Ok(())
}

/// `kontor contacts link ID USER`
fn link(ctx: &Ctx, id: &str, user: &str) -> Result<()> {
    let contacts = existing_book(ctx)?;
    let c = contacts.link_chat(id, user)?;
    if ctx.json {
        output::json(&json!({ "id": c.id, "chat_id": c.chat_id }))
    } else {
        println!("{} ({}) chats as {user}", c.display_name, c.id);
        Ok(())
    }
}

/// `kontor contacts report [--format csv|json] [--out PATH]`
fn report(ctx: &Ctx, format: ReportFormat, out: Option<&Path>) -> Result<()> {
    let contacts = existing_book(ctx)?;
    let (name, content) = match format {
        ReportFormat::Csv => ("csv", contacts.consent_report_csv()?),
        ReportFormat::Json => ("json", contacts.consent_report_json()?),
    };
    emit(ctx, name, content, out, json!({}))?;
    if out.is_some() && !ctx.json {
        println!("consent report written as {name}");
    }
    Ok(())
}

/// Delivers an export or report: to `--out` (private, atomic) or stdout.
///
/// With `--json` stdout still carries exactly one JSON line: the file's path and size;
/// a JSON document itself, compacted; or other content as a string in
/// `{"format","content"}`. `extra` fields (the contact id) go into the object forms.
fn emit(
    ctx: &Ctx,
    format: &str,
    mut content: String,
    out: Option<&Path>,
    mut extra: serde_json::Value,
) -> Result<()> {
    if format == "json" && !content.ends_with('\n') {
        content.push('\n');
    }
    let fields = extra.as_object_mut().expect("extra is an object");
    fields.insert("format".into(), format.into());
    if let Some(path) = out {
        write_private(path, content.as_bytes())?;
        if ctx.json {
            fields.insert("path".into(), path.display().to_string().into());
            fields.insert("bytes".into(), content.len().into());
            return output::json(&extra);
        }
        eprintln!("wrote {} ({} bytes)", path.display(), content.len());
        return Ok(());
    }
    if ctx.json {
        if format == "json" {
            let doc: serde_json::Value =
                serde_json::from_str(&content).context("the export is not valid JSON")?;
            return output::json(&doc);
        }
        fields.insert("content".into(), content.into());
        return output::json(&extra);
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(content.as_bytes())
        .and_then(|_| stdout.flush())
        .context("cannot write stdout")
}

/// Writes personal data to `path` privately (the service's one rule, [`fs::write_private`]).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write_private(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `kontor contacts erase ID [--yes]`
fn erase(ctx: &Ctx, id: &str, yes: bool) -> Result<()> {
    // Art. 17 erasure cannot be undone, so a script must say so explicitly: a piped "y"
    // is not taken as consent to destroy data. Refused before anything is unlocked.
    let ask = !yes;
    if ask && !std::io::stdin().is_terminal() {
        return Err(Fail::new(
            USAGE,
            "erase is irreversible: pass --yes to confirm when stdin is not a terminal",
        )
        .into());
    }
    require_book(ctx)?;
    let pass = passphrase()?;
    let contacts = open_book(ctx, &pass)?;
    let (_, c) = contacts.get(id)?;
    // Opened before anything is erased: a store that does not open stops the command
    // while the contact is still there.
    let quotes = device_quotes(ctx, &pass)?;
    let kept = match &quotes {
        Some(q) => q.for_person(&c.id, c.matrix_account())?.len(),
        None => 0,
    };
    if ask {
        eprint!(
            "Erase {} ({}) and its consent history from both books?{}{} This cannot be undone. [y/N] ",
            c.display_name,
            c.id,
            if kept > 0 {
                format!(" Their {kept} quote(s) are kept (records a business must keep).")
            } else {
                String::new()
            },
            match c.matrix_account() {
                Some(user) => format!(" The chat with {user} stays."),
                None => String::new(),
            }
        );
        let answer = input::read_line()?.unwrap_or_default();
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            return Err(Fail::new(FAILURE, "not erased").into());
        }
    }
    let book = contacts.erase(&c.id)?;
    // The quotes stay (see service::quotes: § 147 AO, § 257 HGB); only their link to
    // the erased contact goes. The account's other devices hear of it when this device
    // next posts the record (this command does not sign in).
    let kept = match &quotes {
        Some(q) => q.unlink_contact(&c.id, c.matrix_account())?.0,
        None => 0,
    };
    // Erasing the contact does not touch the chat: it is the customer's too, and lives
    // on the homeserver and in their client. Said, never done silently.
    let chat = c.matrix_account();
    if ctx.json {
        return output::json(&json!({
            "id": c.id, "erased": true, "book": book, "quotes_kept": kept, "chat_kept": chat,
        }));
    }
    println!("erased {} ({}) from the {book} book", c.display_name, c.id);
    if let Some(user) = chat {
        println!(
            "the chat with {user} stays as it is (it is theirs too); leave it in the app or \
             any Matrix client to remove it from this account"
        );
    }
    if kept > 0 {
        println!(
            "{kept} quote(s) for them are kept: quotes are business letters a business must \
             keep for 6 years (§ 147 AO, § 257 HGB), so their number, name as printed, \
             amounts and answers stay; only the link to the erased contact is removed"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_replace_atomically() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.json");
        std::fs::write(&path, "old").unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn list_lines_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a b  c");
    }
}
