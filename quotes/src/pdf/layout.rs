//! Where everything goes: the quote laid out into pages of simple drawing operations
//! (text, filled rectangles, the logo, the QR code), in points on A4 with the origin at
//! the top left. Laying out first and drawing afterwards is what lets every page say
//! "Seite 1 von N" — N is only known once the last item has found its page.

use super::{
    flow::{
        BODY, BODY_BOLD, CELL, Column, Flow, HEAD, Ink, LEFT, LINE, Op, PAD, RIGHT, SMALL, Style,
        TOP,
    },
    labels::Labels,
    text::Fonts,
};
use crate::{BusinessDetails, Customer, Money, Quote, Totals};

/// What the layout needs besides the quote.
pub(crate) struct Input<'a> {
    pub(crate) quote: &'a Quote,
    pub(crate) details: &'a BusinessDetails,
    pub(crate) customer: &'a Customer,
    pub(crate) labels: &'static Labels,
    pub(crate) totals: &'a Totals,
    /// The logo's pixel size, when there is one.
    pub(crate) logo: Option<(u32, u32)>,
    /// The GiroCode's modules (`width`, dark), when bank details are set.
    pub(crate) giro: Option<(usize, Vec<bool>)>,
}

/// Lays the quote out; the result is one list of operations per page.
pub(crate) fn layout(fonts: &Fonts, input: &Input<'_>) -> Vec<Vec<Op>> {
    let l = input.labels;
    let mut flow = Flow::new(
        fonts,
        format!(
            "{} {} · {} · {}",
            l.quote,
            input.quote.number,
            input.details.name.trim(),
            l.continued
        ),
    );
    letterhead(&mut flow, input);
    items(&mut flow, input);
    totals(&mut flow, input);
    closing(&mut flow, input);
    if let Some((width, dark)) = &input.giro {
        girocode(&mut flow, input, *width, dark.clone());
    }
    footers(&mut flow, input);
    flow.pages
}

/// Sender, logo, customer, number and dates, heading and title.
fn letterhead(flow: &mut Flow<'_>, input: &Input<'_>) {
    let (l, d, q) = (input.labels, input.details, input.quote);
    let mut logo_box = (0.0, 0.0);
    if let Some((w, h)) = input.logo {
        let scale = (150.0 / w as f32).min(56.0 / h as f32);
        let (w, h) = (w as f32 * scale, h as f32 * scale);
        flow.push(Op::Logo {
            x: RIGHT - w,
            y: TOP,
            w,
            h,
        });
        logo_box = (w, h);
    }
    let width = RIGHT - LEFT - logo_box.0 - 24.0;
    let name = Style {
        size: 14.0,
        ..BODY_BOLD
    };
    let mut y = TOP + name.size;
    for line in flow.wrap(d.name.trim(), name, width) {
        flow.text(LEFT, y, name, &line);
        y += 17.0;
    }
    y += 1.0;
    let sender = format!("{}\n{}", d.address.trim(), d.contact.trim());
    for line in flow.wrap(sender.trim(), BODY, width) {
        flow.text(LEFT, y, Style { size: 9.0, ..BODY }, &line);
        y += 12.0;
    }
    let tax = format!("{}: {}", l.tax_label(&d.tax_id), d.tax_id.trim());
    flow.text(LEFT, y, SMALL, &tax);
    y += 10.0;

    let top = y.max(TOP + logo_box.1) + 26.0;
    flow.text(LEFT, top + 8.0, SMALL, l.quote_for);
    let mut left_y = top + 23.0;
    let customer = Style {
        size: 11.0,
        ..BODY_BOLD
    };
    for line in flow.wrap(input.customer.name.trim(), customer, 250.0) {
        flow.text(LEFT, left_y, customer, &line);
        left_y += 14.0;
    }
    let mut right_y = top + 8.0;
    for (label, value) in [
        (l.number, q.number.to_string()),
        (l.date, q.date.format(l.german)),
        (l.valid_until, q.valid_until.format(l.german)),
    ] {
        flow.text(RIGHT - 190.0, right_y, Style { size: 9.0, ..SMALL }, label);
        flow.text_right(RIGHT, right_y, Style { size: 9.0, ..BODY }, &value);
        right_y += 13.0;
    }
    flow.y = left_y.max(right_y) + 22.0;
    let heading = Style {
        size: 17.0,
        bold: true,
        ink: Ink::Accent,
    };
    flow.text(
        LEFT,
        flow.y + heading.size,
        heading,
        &format!("{} {}", l.quote, q.number),
    );
    flow.y += heading.size + 10.0;
    let title = Style { size: 11.0, ..BODY };
    for line in flow.wrap(q.title.trim(), title, RIGHT - LEFT) {
        flow.text(LEFT, flow.y + title.size, title, &line);
        flow.y += 14.5;
    }
    flow.y += 12.0;
}

/// The columns; without VAT (§ 19) there is no VAT column.
fn columns(l: &'static Labels, vat: bool) -> Vec<Column> {
    let column = |label, right| Column {
        label,
        width: 0.0,
        right,
    };
    let mut columns = vec![
        column(l.pos, false),
        column(l.description, false),
        column(l.quantity, true),
        column(l.unit, false),
        column(l.unit_price, true),
    ];
    if vat {
        columns.push(column(l.vat, true));
    }
    columns.push(column(l.total, true));
    columns
}

/// The widest unit column; a longer unit wraps.
const UNIT_MAX: f32 = 64.0;

/// The item table: a row never splits unless it is taller than half a page; every page
/// the table continues on starts with the header again. The number columns are as wide
/// as their widest entry, the description takes the rest.
fn items(flow: &mut Flow<'_>, input: &Input<'_>) {
    let l = input.labels;
    let mut columns = columns(l, !input.quote.small_business);
    let rows: Vec<Vec<String>> = (input.quote.items.iter().enumerate())
        .map(|(i, item)| {
            let mut cells = vec![
                (i + 1).to_string(),
                String::new(),
                item.quantity.format(l.german),
                item.unit.trim().to_owned(),
                item.unit_price.format(l.german),
            ];
            if !input.quote.small_business {
                cells.push(l.percent(item.vat_percent * 100));
            }
            cells.push(item.net().format(l.german));
            cells
        })
        .collect();
    for (c, column) in columns.iter_mut().enumerate().filter(|(c, _)| *c != 1) {
        let widest = rows
            .iter()
            .map(|r| flow.fonts.regular.width(&r[c], CELL.size))
            .fold(flow.fonts.bold.width(column.label, HEAD.size), f32::max);
        column.width = widest + 2.0 * PAD + 2.0;
        if c == 3 {
            column.width = column.width.min(UNIT_MAX);
        }
    }
    let fixed: f32 = columns.iter().map(|c| c.width).sum();
    columns[1].width = RIGHT - LEFT - fixed;
    flow.ensure(60.0);
    flow.table_header(&columns);
    flow.table = Some(columns.clone());
    for (item, cells) in input.quote.items.iter().zip(&rows) {
        let text_width = |c: usize| columns[c].width - 2.0 * PAD;
        let lines = flow.wrap(item.description.trim(), CELL, text_width(1));
        let unit = flow.wrap(&cells[3], CELL, text_width(3));
        flow.row(lines.len(), unit.len(), |flow, range, first, baseline| {
            let chunk = &lines[range];
            let mut x = LEFT;
            let mut height = chunk.len();
            for (c, column) in columns.iter().enumerate() {
                let cell_lines: &[String] = match c {
                    1 => chunk,
                    3 if first => &unit,
                    _ if first => std::slice::from_ref(&cells[c]),
                    _ => &[],
                };
                height = height.max(cell_lines.len());
                for (n, line) in cell_lines.iter().enumerate() {
                    let y = baseline + n as f32 * LINE;
                    if column.right {
                        flow.text_right(x + column.width - PAD, y, CELL, line);
                    } else {
                        flow.text(x + PAD, y, CELL, line);
                    }
                }
                x += column.width;
            }
            height
        });
    }
    flow.table = None;
    flow.y += 10.0;
}

/// Net per rate, VAT per rate, the gross; the discount first if there is one.
fn totals(flow: &mut Flow<'_>, input: &Input<'_>) {
    let (l, q, t) = (input.labels, input.quote, input.totals);
    let mut rows: Vec<(String, Money)> = Vec::new();
    if let Some(crate::Discount::Percent(p)) = q.discount {
        rows.push((l.subtotal.to_owned(), t.lines_net));
        rows.push((
            format!("{} {}", l.discount, l.percent(p)),
            Money(-t.discount.0),
        ));
    }
    if !q.small_business {
        for r in &t.per_rate {
            let rate = l.percent(r.rate.percent() * 100);
            rows.push((format!("{} {rate}", l.net), r.net));
            rows.push((format!("{} {rate}", l.vat), r.vat));
        }
    }
    let line = 15.0;
    flow.ensure(rows.len() as f32 * line + 30.0);
    let label_x = RIGHT - 250.0;
    for (label, amount) in rows {
        flow.text(label_x, flow.y + BODY.size, BODY, &label);
        flow.text_right(
            RIGHT - PAD,
            flow.y + BODY.size,
            BODY,
            &amount.format(l.german),
        );
        flow.y += line;
    }
    flow.rect(label_x, flow.y, RIGHT - label_x, 0.8, Ink::Text);
    flow.y += 5.0;
    let gross = Style {
        size: 11.0,
        ..BODY_BOLD
    };
    flow.text(label_x, flow.y + gross.size, gross, l.gross);
    flow.text_right(
        RIGHT - PAD,
        flow.y + gross.size,
        gross,
        &t.gross.format(l.german),
    );
    flow.y += gross.size + 22.0;
}

/// The § 19 note, validity, payment terms and notes.
fn closing(flow: &mut Flow<'_>, input: &Input<'_>) {
    let (l, q, d) = (input.labels, input.quote, input.details);
    if q.small_business {
        flow.paragraph(crate::SMALL_BUSINESS_NOTE, BODY, 6.0);
    }
    flow.paragraph(&l.validity(q.valid_until), BODY, 6.0);
    for (label, text) in [(l.payment_terms, &d.payment_terms), (l.notes, &q.notes)] {
        if text.trim().is_empty() {
            continue;
        }
        flow.ensure(2.0 * BODY.size * 1.35);
        flow.paragraph(label, BODY_BOLD, 0.0);
        flow.paragraph(text.trim(), BODY, 6.0);
    }
}

/// The GiroCode with what it contains written beside it, so a customer without a banking
/// app can type it.
fn girocode(flow: &mut Flow<'_>, input: &Input<'_>, width: usize, dark: Vec<bool>) {
    let (l, d) = (input.labels, input.details);
    let size = 96.0;
    flow.ensure(size + 8.0);
    let y = flow.y + 4.0;
    let module = size / width as f32;
    flow.push(Op::Qr {
        // The quiet zone hangs into the margin, so the code lines up with the text.
        x: LEFT - 4.0 * module,
        y,
        module,
        width,
        dark,
    });
    let x = LEFT + size + 8.0;
    let mut line_y = y + 14.0;
    flow.text(x, line_y, BODY_BOLD, l.giro_title);
    line_y += 14.0;
    for line in flow.wrap(l.giro_hint, SMALL, RIGHT - x) {
        flow.text(x, line_y, SMALL, &line);
        line_y += 10.5;
    }
    line_y += 3.0;
    let iban = crate::normalise_iban(&d.iban).unwrap_or_else(|_| d.iban.clone());
    let grouped: Vec<String> = iban
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut rows = vec![("IBAN", grouped.join(" "))];
    if !d.bic.trim().is_empty() {
        rows.push(("BIC", d.bic.trim().to_uppercase()));
    }
    rows.push((l.amount, input.totals.gross.format(l.german)));
    rows.push((l.reference, input.quote.number.to_string()));
    for (label, value) in rows {
        flow.text(x, line_y, Style { size: 8.5, ..SMALL }, label);
        flow.text(x + 100.0, line_y, Style { size: 8.5, ..BODY }, &value);
        line_y += 11.5;
    }
    flow.y = y + size + 8.0;
}

/// On every page: the sender and the page number.
fn footers(flow: &mut Flow<'_>, input: &Input<'_>) {
    let (l, d) = (input.labels, input.details);
    let mut parts = vec![d.name.trim().to_owned()];
    parts.extend(
        d.address
            .lines()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    parts.push(format!("{} {}", l.tax_label(&d.tax_id), d.tax_id.trim()));
    flow.footers(&parts.join(" · "), l);
}
