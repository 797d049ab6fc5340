//! Pages being filled: the page geometry (A4, margins, the footer's place), the drawing
//! operations, the text styles, and the cursor that wraps text, breaks pages (repeating
//! a running head and a table header), splits a tall row over pages and, once the last
//! page is known, writes "Seite i von n" on every one. Shared by the quote
//! (`layout.rs`) and the generic document (`document.rs`), so both break pages alike.

use std::ops::Range;

use super::{
    labels::Labels,
    text::{Face, Fonts, Run},
};

/// A4 in points.
pub(crate) const WIDTH: f32 = 595.28;
/// A4 in points.
pub(crate) const HEIGHT: f32 = 841.89;
pub(super) const LEFT: f32 = 56.0;
pub(super) const RIGHT: f32 = WIDTH - 56.0;
pub(super) const TOP: f32 = 48.0;
/// Content ends here; the footer lives below.
pub(super) const BOTTOM: f32 = HEIGHT - 72.0;
const FOOTER: f32 = HEIGHT - 52.0;

/// The colours, named by purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ink {
    /// Body text.
    Text,
    /// Secondary text (labels, footer).
    Muted,
    /// Headings.
    Accent,
    /// Hairlines between rows.
    Rule,
    /// The table header's background.
    Band,
}

/// One drawing operation.
pub(crate) enum Op {
    /// Shaped text, `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        ink: Ink,
        run: Run,
    },
    /// A filled rectangle.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        ink: Ink,
    },
    /// The logo, scaled into this box.
    Logo { x: f32, y: f32, w: f32, h: f32 },
    /// A QR code: `width`² modules, row by row, `true` = dark; `module` points each.
    Qr {
        x: f32,
        y: f32,
        module: f32,
        width: usize,
        dark: Vec<bool>,
    },
}

/// How a piece of text looks.
#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) size: f32,
    pub(super) bold: bool,
    pub(super) ink: Ink,
}

pub(super) const BODY: Style = Style {
    size: 9.5,
    bold: false,
    ink: Ink::Text,
};
pub(super) const BODY_BOLD: Style = Style { bold: true, ..BODY };
pub(super) const SMALL: Style = Style {
    size: 8.0,
    bold: false,
    ink: Ink::Muted,
};
/// Text in a table cell; [`LINE`] apart.
pub(super) const CELL: Style = Style { size: 9.0, ..BODY };
pub(super) const HEAD: Style = Style {
    size: 8.5,
    bold: true,
    ink: Ink::Text,
};

/// A column of a table.
#[derive(Clone)]
pub(super) struct Column {
    pub(super) label: &'static str,
    pub(super) width: f32,
    pub(super) right: bool,
}

/// The padding of a table cell.
pub(super) const PAD: f32 = 4.0;
/// The distance of two lines in a table cell.
pub(super) const LINE: f32 = 11.5;

/// Pages being filled, with the cursor on the last one.
pub(super) struct Flow<'a> {
    pub(super) fonts: &'a Fonts,
    pub(super) pages: Vec<Vec<Op>>,
    /// The page drawn on (the last one, except while the footers are added).
    current: usize,
    pub(super) y: f32,
    /// Set while a table runs: a new page starts with its header again.
    pub(super) table: Option<Vec<Column>>,
    /// Printed at the top of every page after the first.
    running_head: String,
}

impl<'a> Flow<'a> {
    /// One empty page, the cursor at its top.
    pub(super) fn new(fonts: &'a Fonts, running_head: String) -> Flow<'a> {
        Flow {
            fonts,
            pages: vec![Vec::new()],
            current: 0,
            y: TOP,
            table: None,
            running_head,
        }
    }

    pub(super) fn face(&self, bold: bool) -> &'a Face {
        if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    pub(super) fn push(&mut self, op: Op) {
        self.pages[self.current].push(op);
    }

    pub(super) fn text(&mut self, x: f32, y: f32, style: Style, text: &str) -> f32 {
        let run = self.face(style.bold).shape(text);
        let width = run.width(style.size);
        self.push(Op::Text {
            x,
            y,
            size: style.size,
            bold: style.bold,
            ink: style.ink,
            run,
        });
        width
    }

    pub(super) fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str) {
        let width = self.face(style.bold).width(text, style.size);
        self.text(right - width, y, style, text);
    }

    pub(super) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, ink: Ink) {
        self.push(Op::Rect { x, y, w, h, ink });
    }

    pub(super) fn wrap(&self, text: &str, style: Style, max: f32) -> Vec<String> {
        self.face(style.bold).wrap(text, style.size, max)
    }

    /// Starts a new page when `height` does not fit on this one.
    pub(super) fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        self.y = TOP;
        let head = self.running_head.clone();
        self.text(LEFT, self.y + 8.0, SMALL, &head);
        self.y += 22.0;
        if let Some(columns) = self.table.take() {
            self.table_header(&columns);
            self.table = Some(columns);
        }
    }

    pub(super) fn table_header(&mut self, columns: &[Column]) {
        let height = HEAD.size + 2.0 * PAD + 3.0;
        self.rect(LEFT, self.y, RIGHT - LEFT, height, Ink::Band);
        let baseline = self.y + PAD + HEAD.size + 0.5;
        let mut x = LEFT;
        for c in columns {
            if c.right {
                self.text_right(x + c.width - PAD, baseline, HEAD, c.label);
            } else {
                self.text(x + PAD, baseline, HEAD, c.label);
            }
            x += c.width;
        }
        self.y += height;
    }

    /// One table row whose tallest cell has `lines` lines ([`LINE`] apart) that may run
    /// on; on its first page it needs at least `first_lines` (cells that stay together).
    /// The row moves to the next page whole; only a row taller than half a page is
    /// split (that long, it is a text, not a line). `draw` draws the lines `range` of
    /// the running cell (`first`: the row's first part, where the other cells go too)
    /// with the baseline of its first line, and returns how many lines it drew at most;
    /// each part ends with a hairline.
    pub(super) fn row(
        &mut self,
        lines: usize,
        first_lines: usize,
        mut draw: impl FnMut(&mut Self, Range<usize>, bool, f32) -> usize,
    ) {
        let (mut done, mut first) = (0, true);
        while done < lines {
            let fit = ((BOTTOM - self.y - 2.0 * PAD) / LINE).floor().max(0.0) as usize;
            let left = lines - done;
            let needed = if first { left.max(first_lines) } else { left };
            let short = needed as f32 * LINE < (BOTTOM - TOP) / 2.0;
            if fit == 0 || (fit < needed && first && short) {
                self.new_page();
                continue;
            }
            let end = done + fit.min(left);
            let baseline = self.y + PAD + CELL.size;
            let height = draw(self, done..end, first, baseline);
            self.y += 2.0 * PAD + height as f32 * LINE - (LINE - CELL.size) + 2.0;
            self.rect(LEFT, self.y - 0.5, RIGHT - LEFT, 0.5, Ink::Rule);
            done = end;
            first = false;
        }
    }

    /// A paragraph that may continue on the next page, line by line.
    pub(super) fn paragraph(&mut self, text: &str, style: Style, gap_after: f32) {
        let line = style.size * 1.35;
        for l in self.wrap(text, style, RIGHT - LEFT) {
            self.ensure(line);
            self.text(LEFT, self.y + style.size, style, &l);
            self.y += line;
        }
        self.y += gap_after;
    }

    /// On every page: a hairline, `text` (wrapped beside the number) and the page
    /// number ("Seite 1 von 2"). Last, when the number of pages is known.
    pub(super) fn footers(&mut self, text: &str, labels: &Labels) {
        let total = self.pages.len();
        let style = Style { size: 7.5, ..SMALL };
        for page in 0..total {
            let number = labels.page(page + 1, total);
            let number_width = self.face(false).width(&number, 8.0);
            let lines = self.wrap(text, style, RIGHT - LEFT - number_width - 24.0);
            self.current = page;
            self.rect(LEFT, FOOTER, RIGHT - LEFT, 0.5, Ink::Rule);
            for (n, line) in lines.iter().enumerate() {
                self.text(LEFT, FOOTER + 12.0 + n as f32 * 9.5, style, line);
            }
            self.text_right(RIGHT, FOOTER + 12.0, Style { size: 8.0, ..SMALL }, &number);
        }
    }
}
