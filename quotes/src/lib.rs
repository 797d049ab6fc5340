//! Quotes as business objects (issue 11): the arithmetic, the rules, the documents and
//! the device's sealed store. Only [`store`] does I/O (rendering and export return bytes
//! and text; sending them is the app's part). A quote is written in Kontor, checked here field by field before anything is
//! rendered or sent, and its totals are computed here the way a German invoice needs:
//!
//! - money is integer cents ([`Money`]), never floating point;
//! - quantities have at most two decimals (hundredths);
//! - a line's net is quantity × unit price, rounded half up to the cent;
//! - VAT is computed **per rate on the net sum of that rate** and rounded half up to the
//!   cent (not per line: that is what § 14 UStG invoices and tax advisers expect);
//! - a small business (§ 19 UStG) charges no VAT and must say so ([`SMALL_BUSINESS_NOTE`]).
//!
//! How a customer's answer from any Matrix client is read is [`answer`].
//! Also the caption a person reads under the PDF in any Matrix client
//! ([`Quote::caption`]) and the text of the EPC GiroCode ([`epc_payload`]).
//!
//! The quote as a PDF ([`pdf::render`]: A4, letterhead, item table over pages, totals,
//! GiroCode) and the quote list as CSV for the tax adviser ([`export::csv`]).
//!
//! A quote's life after it was written — sent where, answered by whom and when, its
//! status — is [`QuoteRecord`] (the one place of the answer rules); the structured quote
//! that travels in the chat is [`WireQuote`]; the device keeps records sealed in
//! [`store::QuoteStore`], and [`overview`] lists them. Sending and syncing between the
//! account's devices are the app's (`app/src/service/quotes`).

pub mod answer;
mod business;
pub mod export;
mod giro;
mod money;
mod number;
pub mod overview;
pub mod pdf;
mod quote;
mod record;
pub mod store;
mod wire;

pub use business::{BusinessDetails, DetailsError, LOGO_LIMIT, LogoKind, logo_kind};
pub use giro::{GiroError, epc_payload, normalise_iban};
pub use money::{Money, MoneyError, Quantity};
pub use number::{NumberError, QuoteNumber};
pub use quote::{
    Date, Discount, FieldError, LineItem, Quote, RateTotal, SMALL_BUSINESS_NOTE, Totals, VatRate,
};
pub use record::{AnswerRecord, Customer, Ignored, QuoteRecord, Sent, Status};
pub use wire::{QUOTE_KEY, WIRE_VERSION, WireError, WireQuote};
