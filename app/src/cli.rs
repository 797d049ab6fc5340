//! The command line: every subcommand, flag and environment variable.
//!
//! Scripts drive this interface, so names here are a public contract: add, never rename.
//! app/README-CLI.md documents the same surface for people.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Kontor: secure business messenger on Matrix (end-to-end encrypted).
///
/// Secrets are never taken from arguments: the profile passphrase comes from
/// KONTOR_PASSPHRASE, else the first line of stdin when stdin is not a terminal, else a
/// prompt without echo. Exit codes: 0 ok, 1 error, 2 usage, 3 wrong passphrase,
/// 4 not logged in, 5 homeserver (or identity server) unreachable, 6 verification not
/// completed, 130 cancelled with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "kontor", version, propagate_version = true)]
pub struct Cli {
    /// Directory for Kontor's data; the encrypted profile lives in its `profile/`
    /// subdirectory [default: $XDG_DATA_HOME/kontor or ~/.local/share/kontor].
    #[arg(long, global = true, env = "KONTOR_DATA_DIR", value_name = "PATH")]
    pub data_dir: Option<PathBuf>,

    /// Machine-readable output: one JSON document on stdout (streaming commands: one
    /// JSON object per line).
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do; without a subcommand the app opens its window (onboarding or unlock).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in and save the session in an encrypted profile (password from
    /// KONTOR_PASSWORD, stdin or a prompt).
    Login {
        /// Homeserver base URL, e.g. https://matrix.example.org
        #[arg(long, value_name = "URL")]
        homeserver: String,
        /// User name (local part) or full Matrix id.
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Log out on the server and delete the local profile.
    Logout {
        /// Delete the local profile even when the server cannot be reached.
        #[arg(long)]
        force: bool,
    },
    /// Show the logged-in user, device and homeserver.
    Whoami,
    /// Send a text message to a user (opens the direct chat if needed).
    Send {
        /// Recipient, a full Matrix id (@name:server).
        #[arg(value_parser = matrix_user)]
        user: String,
        /// The message; `-` reads it from stdin (after any secret lines).
        text: String,
        #[command(flatten)]
        wait: Wait,
    },
    /// Send a file (encrypted) to a user.
    SendFile {
        /// Recipient, a full Matrix id (@name:server).
        #[arg(value_parser = matrix_user)]
        user: String,
        /// The file to send.
        path: PathBuf,
        /// MIME type [default: guessed from the file name].
        #[arg(long, value_name = "TYPE")]
        mime: Option<String>,
        #[command(flatten)]
        wait: Wait,
    },
    /// Show the history of the direct chat with a user, oldest first.
    Messages {
        /// The other user, a full Matrix id (@name:server).
        #[arg(value_parser = matrix_user)]
        user: String,
        /// How many messages to fetch.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
        /// Show the history around this message instead of the newest (a search hit's
        /// event id): up to N/2 messages before and after it.
        #[arg(long, value_name = "EVENT_ID")]
        around: Option<String>,
    },
    /// Download, verify and decrypt the file of a message.
    Download {
        /// Event id of the file message (from `messages --json`).
        event_id: String,
        /// Where to write the file (replaced atomically once verified).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// List pending invites, or accept / decline one.
    Invites {
        /// Without an action: list.
        #[command(subcommand)]
        action: Option<InviteAction>,
    },
    /// List queued messages, or retry / cancel one.
    Outbox {
        /// Without an action: list.
        #[command(subcommand)]
        action: Option<OutboxAction>,
    },
    /// Sync once and flush the outbox, or follow events as JSON lines.
    Sync {
        /// Keep syncing and print every event as a JSON line until stdin closes or
        /// SIGINT/SIGTERM.
        #[arg(long)]
        follow: bool,
        /// Seconds to wait for the outbox to empty (without --follow).
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        timeout: u64,
    },
    /// Verify another user or device by comparing emojis.
    Verify {
        /// Request or accept.
        #[command(subcommand)]
        action: VerifyAction,
    },
    /// Key backup: create a recovery key, or restore history with one.
    Recovery {
        /// Enable or restore.
        #[command(subcommand)]
        action: RecoveryAction,
    },
    /// The split contact book: import, consent, GDPR export / erase / report, discovery.
    Contacts {
        /// What to do with the contact book.
        #[command(subcommand)]
        action: ContactsAction,
    },
    /// Consent asked and answered in the chat (double opt-in): request, status, answer,
    /// the request's editable intro.
    Consent {
        /// What to do.
        #[command(subcommand)]
        action: ConsentAction,
    },
    /// Quotes: business details, write, send, list, show, answer, export (CSV).
    Quote {
        /// What to do with quotes.
        #[command(subcommand)]
        action: QuoteAction,
    },
    /// Search every chat, file and quote on this device (the encrypted local index). The
    /// index is brought up to date first (one sync, then the history back to each chat's
    /// beginning; resumable, so only the first run reads it all). Words must all occur,
    /// case, accents and endings do not matter ("muller" finds "Müller", "angebot" finds
    /// "Angebote"); "a phrase" in quotes; word* for a prefix. Prints one hit per line,
    /// newest first, matches in [brackets].
    Search(SearchArgs),
    /// Print your business link (https://matrix.to/#/@you:server, which every Matrix
    /// client opens) and write its QR code for a business card, a web site or an e-mail
    /// signature. Works offline.
    Link {
        /// Also write the QR code as a PNG here (10 px a module; created 0600, replaced
        /// atomically).
        #[arg(long, value_name = "PATH")]
        png: Option<PathBuf>,
        /// Also write the QR code as an SVG here (created 0600, replaced atomically).
        #[arg(long, value_name = "PATH")]
        svg: Option<PathBuf>,
    },
    /// Try Kontor: a local Synapse with users anna and ben, the app logged in as anna, and
    /// a customer process for ben that answers. Closing the window stops everything.
    #[cfg(feature = "demo")]
    Demo,
}

/// `kontor consent …`
#[derive(Debug, Subcommand)]
pub enum ConsentAction {
    /// Send a consent request into the direct chat with a contact (one contact per
    /// command). The customer answers from any Matrix client: a reply JA/YES or NEIN/NO,
    /// or a 👍/👎 reaction; later "STOP" withdraws.
    Request {
        /// Contact id (or unique prefix), or the Matrix id of a contact or chat partner.
        who: String,
        /// What the consent is for, in your words [default: "Kundenkommunikation über
        /// Kontor"].
        #[arg(long, value_name = "TEXT")]
        purpose: Option<String>,
        /// The customer's language for the request.
        #[arg(long, value_enum, default_value_t = Lang::De)]
        language: Lang,
        /// The contact is in the private book (no consent): ask anyway. Needed each
        /// time, so such requests never go out in bulk.
        #[arg(long)]
        confirm: bool,
    },
    /// Consent now, the open request and the last decision of one contact, or of every
    /// contact with a Matrix account; catches up with answers first.
    Status {
        /// Contact id (or unique prefix) or Matrix id; all contacts with one when left out.
        who: Option<String>,
    },
    /// As the customer: answer a consent request someone sent you (a reply that reads
    /// "JA, ich willige ein." or "NEIN, ich willige nicht ein." in any client).
    Answer {
        /// Who asked (their Matrix id); the newest request in the direct chat is answered.
        #[arg(value_parser = matrix_user)]
        user: String,
        /// yes or no.
        #[arg(value_enum)]
        answer: YesNo,
        /// The language of the reply [default: the request's].
        #[arg(long, value_enum)]
        language: Option<Lang>,
    },
    /// Show the intro paragraph of requests, or set it from a text file (placeholders
    /// {name}, {account}, {purpose}); how to answer and withdraw is always added.
    Template {
        /// Which language's intro.
        #[arg(long, value_enum, default_value_t = Lang::De)]
        language: Lang,
        /// Set the intro from this UTF-8 text file.
        #[arg(long, value_name = "FILE", conflicts_with = "reset")]
        set: Option<PathBuf>,
        /// Back to Kontor's intro.
        #[arg(long)]
        reset: bool,
    },
}

/// A yes or a no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YesNo {
    /// Consent.
    Yes,
    /// No consent.
    No,
}

/// `kontor quote …`
#[derive(Debug, Subcommand)]
pub enum QuoteAction {
    /// Show the business details printed on every quote; with --set, replace them from a
    /// JSON or TOML file first (synced to the account's other devices, encrypted).
    Details {
        /// The details as JSON or TOML (`.toml`): name, address, contact, tax_id, iban,
        /// bic, small_business, validity_days, payment_terms.
        #[arg(long, value_name = "FILE")]
        set: Option<PathBuf>,
    },
    /// Write a quote from a JSON or TOML file (title, items, discount, notes,
    /// valid_until); it gets the next number and is kept as a draft unless --send.
    New {
        /// The quote as typed (see README-CLI.md for the fields).
        file: PathBuf,
        /// The customer's Matrix id (the chat it is sent to).
        #[arg(long, value_name = "USER")]
        to: Option<String>,
        /// The customer's name as printed [default: the Matrix id].
        #[arg(long, value_name = "NAME")]
        customer: Option<String>,
        /// The contact book's id of the customer (GDPR export and erase find it).
        #[arg(long, value_name = "ID")]
        contact: Option<String>,
        /// The number of a sent quote this one revises ("replaces A-2026-0007").
        #[arg(long, value_name = "NUMBER")]
        replaces: Option<String>,
        /// Also write the PDF here.
        #[arg(long, value_name = "PATH")]
        pdf: Option<PathBuf>,
        /// Send it right away (needs --to).
        #[arg(long)]
        send: bool,
        /// Language of the PDF and the caption.
        #[arg(long, value_enum, default_value_t = Lang::De)]
        lang: Lang,
    },
    /// Send a written quote to its customer.
    Send {
        /// Its number, e.g. A-2026-0007.
        number: String,
        /// Language of the PDF and the caption.
        #[arg(long, value_enum, default_value_t = Lang::De)]
        lang: Lang,
    },
    /// All quotes, newest first, with the totals of open and accepted ones.
    List {
        /// Only this status: draft, sent, accepted, declined, expired, replaced.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// Only customers whose name contains this (or with exactly this Matrix or
        /// contact id).
        #[arg(long, value_name = "TEXT")]
        customer: Option<String>,
    },
    /// One quote with its status and every answer.
    Show {
        /// Its number.
        number: String,
        /// Also render its PDF (again) to this path.
        #[arg(long, value_name = "PATH")]
        pdf: Option<PathBuf>,
    },
    /// As the customer: accept or decline a quote you received (a reply that reads
    /// naturally in any Matrix client).
    Answer {
        /// Who sent the quote (the chat).
        user: String,
        /// The quote's event id (`kontor messages USER --json`).
        event_id: String,
        /// accept or decline.
        #[arg(value_enum)]
        answer: AnswerArg,
        /// Language of the reply.
        #[arg(long, value_enum, default_value_t = Lang::De)]
        lang: Lang,
    },
    /// CSV for the tax adviser: number, date, customer, net, VAT, gross, status,
    /// answered at.
    Export {
        /// Where to write it (0600).
        out: PathBuf,
        /// German (semicolons, decimal comma) or English.
        #[arg(long, value_enum, default_value_t = Lang::De)]
        lang: Lang,
    },
}

/// A document's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// German.
    De,
    /// English.
    En,
}

/// The customer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnswerArg {
    /// Accept the quote.
    Accept,
    /// Decline it.
    Decline,
}

/// `kontor search …`
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for: one argument or several words (joined by spaces); none with
    /// a filter lists what the filter keeps.
    #[arg(value_name = "QUERY", num_args = 0..)]
    pub query: Vec<String>,
    /// Only the direct chat with this user (@name:server), or this room id (!…).
    #[arg(long, value_name = "USER|ROOM")]
    pub chat: Option<String>,
    /// Only messages sent by this user.
    #[arg(long, value_parser = matrix_user, value_name = "USER")]
    pub sender: Option<String>,
    /// From this day on (YYYY-MM-DD, UTC like every time the CLI prints).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Up to and including this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only files and quotes.
    #[arg(long)]
    pub files: bool,
    /// At most this many hits.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Search only what this device has indexed: no sync, no backfill (offline).
    #[arg(long)]
    pub no_update: bool,
}

/// How long `send` / `send-file` wait for delivery.
#[derive(Debug, Args)]
pub struct Wait {
    /// Seconds to wait for delivery; still undelivered messages stay queued.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
}

/// `kontor invites …`
#[derive(Debug, Subcommand)]
pub enum InviteAction {
    /// List pending invites (the default).
    List,
    /// Join the room of an invite.
    Accept {
        /// Room id from `invites`.
        room_id: String,
    },
    /// Reject an invite.
    Decline {
        /// Room id from `invites`.
        room_id: String,
    },
}

/// `kontor outbox …`
#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// List pending and failed messages (the default).
    List,
    /// Retry a failed message.
    Retry {
        /// Transaction id from `outbox`.
        transaction_id: String,
        #[command(flatten)]
        wait: Wait,
    },
    /// Remove a message before it is sent.
    Cancel {
        /// Transaction id from `outbox`.
        transaction_id: String,
    },
}

/// `kontor verify …`
#[derive(Debug, Subcommand)]
pub enum VerifyAction {
    /// Ask a user (or one of their devices) to verify.
    Request {
        /// The user, a full Matrix id; your own id to verify your other device.
        #[arg(value_parser = matrix_user)]
        user: String,
        /// A device id: verify that device instead of the user's identity.
        #[arg(long, value_name = "ID")]
        device: Option<String>,
        /// Seconds to wait for each step of the other side.
        #[arg(long, default_value_t = 120, value_name = "SECS")]
        timeout: u64,
    },
    /// Wait for a verification request and accept it.
    Accept {
        /// Only accept a request from this user.
        #[arg(long, value_name = "USER", value_parser = matrix_user)]
        from: Option<String>,
        /// Seconds to wait for each step of the other side.
        #[arg(long, default_value_t = 120, value_name = "SECS")]
        timeout: u64,
    },
}

/// `kontor recovery …`
#[derive(Debug, Subcommand)]
pub enum RecoveryAction {
    /// Set up key backup and print the recovery key.
    Enable,
    /// Restore backed-up keys (key from KONTOR_RECOVERY_KEY, stdin or a prompt).
    Restore,
}

/// `kontor contacts …`
///
/// The book lives in `<data-dir>/contacts/` and is unlocked with the profile passphrase.
/// ID arguments take a full contact id or a unique prefix of at least 4 characters.
#[derive(Debug, Subcommand)]
pub enum ContactsAction {
    /// Import a vCard or CSV file (all or nothing) into the work / private books.
    Import {
        /// The vCard (.vcf) or CSV file.
        file: PathBuf,
        /// Consent for the contacts in the file: per contact from the file, everyone
        /// consented, or nobody.
        #[arg(long, value_enum, default_value_t = ImportConsent::FromFile)]
        consent: ImportConsent,
        /// Purpose recorded for granted consent when the file gives none.
        #[arg(long, value_name = "TEXT")]
        purpose: Option<String>,
        /// Evidence recorded with the consent decision (e.g. "signed forms, folder 2025").
        #[arg(long, value_name = "TEXT")]
        evidence: Option<String>,
        /// Country for numbers without a country code (ISO code) [default: DE].
        #[arg(long, value_name = "CC", value_parser = region)]
        region: Option<kontor_contacts::Region>,
    },
    /// List contacts, sorted by name [default: both books, work first].
    List {
        /// Only this book.
        #[arg(long, value_enum)]
        book: Option<BookArg>,
    },
    /// Show one contact with its consent history.
    Show {
        /// Contact id or unique prefix.
        id: String,
    },
    /// Add a contact by hand (to the private book unless --consent granted).
    Add {
        /// Name shown in lists.
        #[arg(long, value_name = "TEXT")]
        name: String,
        /// Phone number (repeatable).
        #[arg(long, value_name = "NUMBER")]
        phone: Vec<String>,
        /// E-mail address (repeatable).
        #[arg(long, value_name = "ADDRESS")]
        email: Vec<String>,
        /// Company or organisation.
        #[arg(long, value_name = "TEXT")]
        org: Option<String>,
        /// Free-text note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Label / category (repeatable).
        #[arg(long, value_name = "TEXT")]
        label: Vec<String>,
        /// `granted` records consent now and puts the contact in the work book.
        #[arg(long, value_enum, default_value_t = AddConsent::None)]
        consent: AddConsent,
        /// Purpose of the consent [default: "Kundenkommunikation über Kontor"].
        #[arg(long, value_name = "TEXT")]
        purpose: Option<String>,
        /// Evidence for the consent (how it was given).
        #[arg(long, value_name = "TEXT")]
        evidence: Option<String>,
    },
    /// Record consent: the contact moves to the work book.
    Grant {
        /// Contact id or unique prefix.
        id: String,
        /// What the consent is for.
        #[arg(long, value_name = "TEXT")]
        purpose: String,
        /// Evidence (how and where it was given).
        #[arg(long, value_name = "TEXT")]
        evidence: Option<String>,
    },
    /// Record a withdrawal: the contact moves to the private book.
    Withdraw {
        /// Contact id or unique prefix.
        id: String,
        /// Evidence (how the withdrawal reached you).
        #[arg(long, value_name = "TEXT")]
        evidence: Option<String>,
    },
    /// Export everything stored about a contact (GDPR Art. 15/20).
    Export {
        /// Contact id or unique prefix.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to this file (created 0600, replaced atomically) instead of stdout.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Write the consent proof of a contact (GDPR Art. 7(1)): the person, the consent
    /// now and every decision with its evidence (for the chat: request and answer), as
    /// a PDF to read or as JSON.
    Proof {
        /// Contact id or unique prefix.
        id: String,
        /// The file to write (created 0600, replaced atomically).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// pdf or json [default: from the extension of --out].
        #[arg(long, value_enum)]
        format: Option<ProofFormat>,
        /// Language of the PDF's labels (recorded texts are printed as recorded).
        #[arg(long, value_enum, default_value_t = Lang::De)]
        lang: Lang,
    },
    /// Record the Matrix account a contact chats from (so they can be asked for consent
    /// and are shown by name in chats); no discovery involved.
    Link {
        /// Contact id or unique prefix.
        id: String,
        /// Their Matrix id (@name:server).
        #[arg(value_parser = matrix_user)]
        user: String,
    },
    /// Erase a contact from both books, consent history included (GDPR Art. 17;
    /// irreversible).
    Erase {
        /// Contact id or unique prefix.
        id: String,
        /// Do not ask; required when stdin is not a terminal.
        #[arg(long)]
        yes: bool,
    },
    /// Consent report of every contact with its history (GDPR Art. 7(1)).
    Report {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Csv)]
        format: ReportFormat,
        /// Write to this file (created 0600, replaced atomically) instead of stdout.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Find which consented contacts use Matrix (work book only; needs a login).
    ///
    /// Follows the app's settings (`<data-dir>/settings.json`): refused when discovery is
    /// turned off there, and uses the identity server saved there when neither the flag
    /// nor `KONTOR_IDENTITY_SERVER` names one.
    Discover {
        /// Identity server base URL, e.g. https://vector.im
        #[arg(long, env = "KONTOR_IDENTITY_SERVER", value_name = "URL", value_parser = http_url)]
        identity_server: Option<String>,
    },
}

/// `contacts import --consent`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportConsent {
    /// Everyone in the file consented (you declare it; recorded as evidence).
    Granted,
    /// Nobody consented: everything goes to the private book.
    None,
    /// Per contact from X-KONTOR-CONSENT or a Consent/Einwilligung column.
    FromFile,
}

/// `contacts add --consent`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddConsent {
    /// Consent given: the work book.
    Granted,
    /// No consent: the private book.
    None,
}

/// `contacts list --book`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BookArg {
    /// Contacts who consented.
    Work,
    /// Everyone else.
    Private,
}

/// `contacts export --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Everything, consent history included (`kontor-contact/1`).
    Json,
    /// vCard 4.0 with X-KONTOR-CONSENT properties (re-importable).
    Vcard,
}

/// `contacts proof --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProofFormat {
    /// A4 PDF, for people.
    Pdf,
    /// `kontor-consent-proof/1`, for programs.
    Json,
}

/// `contacts report --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One row per contact, history in one column.
    Csv,
    /// An array of rows with the full history.
    Json,
}

/// Checks `--region` early, so a typo is a usage error (exit 2).
fn region(s: &str) -> Result<kontor_contacts::Region, String> {
    s.parse().map_err(|e: kontor_contacts::Error| e.to_string())
}

/// Checks a server URL early (exit 2): without a scheme the request would fail later
/// with a confusing transport error.
fn http_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("expected an http:// or https:// URL")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the URL has no host".into());
    }
    Ok(s.to_owned())
}

/// Checks a USER argument early, so a typo is a usage error (exit 2) before any
/// passphrase is asked for.
fn matrix_user(s: &str) -> Result<String, String> {
    kontor_core::parse_user_id(s)
        .map(|u| u.to_string())
        .map_err(|_| "expected a full Matrix id like @name:example.org".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn user_must_be_a_matrix_id() {
        let err = Cli::try_parse_from(["kontor", "send", "ben", "hi"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(Cli::try_parse_from(["kontor", "send", "@ben:example.org", "hi"]).is_ok());
    }

    #[test]
    fn invites_without_action_lists() {
        let cli = Cli::try_parse_from(["kontor", "invites", "--json"]).unwrap();
        assert!(cli.json);
        assert!(matches!(
            cli.command,
            Some(Command::Invites { action: None })
        ));
    }

    #[test]
    fn contacts_flags_parse() {
        let ok = |args: &[&str]| Cli::try_parse_from(args).is_ok();
        assert!(ok(&[
            "kontor", "contacts", "import", "a.vcf", "--region", "at"
        ]));
        assert!(ok(&[
            "kontor",
            "contacts",
            "import",
            "a.vcf",
            "--consent",
            "from-file"
        ]));
        assert!(!ok(&[
            "kontor", "contacts", "import", "a.vcf", "--region", "XX1"
        ]));
        assert!(!ok(&[
            "kontor",
            "contacts",
            "import",
            "a.vcf",
            "--consent",
            "maybe"
        ]));
        assert!(ok(&[
            "kontor", "contacts", "add", "--name", "A", "--phone", "1", "--phone", "2"
        ]));
        assert!(
            !ok(&["kontor", "contacts", "add", "--phone", "1"]),
            "--name is required"
        );
        // Consent always has a purpose.
        assert!(!ok(&["kontor", "contacts", "grant", "abcd"]));
        assert!(ok(&[
            "kontor", "contacts", "list", "--book", "work", "--json"
        ]));
        for (url, valid) in [
            ("https://vector.im", true),
            ("vector.im", false),
            ("http://", false),
        ] {
            let args = ["kontor", "contacts", "discover", "--identity-server", url];
            assert_eq!(ok(&args), valid, "{url}");
        }
    }
}
