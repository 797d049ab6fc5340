//! The freelancer's business link and its QR code, for a business card, a web site or an
//! e-mail signature: `https://matrix.to/#/@anna:example.org`, which every Matrix client
//! understands (matrix.to hands it to the customer's client, or offers one).
//!
//! The link needs nothing but the account's own user id, which the saved session holds,
//! so it works offline. The QR code (error correction M, a quiet zone of 4 modules) is
//! drawn here from the modules, not by a renderer crate: black modules on white as a PNG
//! ([`MODULE_PX`] pixels a module, enough to print) and as a standalone SVG (one path,
//! a `viewBox` in modules, so it scales to any size without blur). Both faces write the
//! files through [`write`] (0600, replaced atomically, like every export).

use std::{fmt::Write as _, path::Path};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qrcode::{Color, EcLevel, QrCode};

use super::{ServiceError, fs::write_private};

/// Pixels per module of the PNG: a version-3 code (29 modules + quiet zone) becomes
/// 370 px, about 3 cm at 300 dpi.
pub const MODULE_PX: u32 = 10;

/// The quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: usize = 4;

/// What may stand unencoded in the identifier part of a matrix.to link: RFC 3986's
/// `pchar` (unreserved, sub-delims, `:` and `@`), minus the two characters matrix.to
/// reads as separators after the identifier (`/` before an event id, `?` before the
/// parameters), which `pchar` does not include anyway.
const IDENTIFIER: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The matrix.to link of a Matrix user id. A valid id comes out as it is
/// (`@anna:example.org`); anything a URL fragment cannot hold (a historical id's `#` or
/// `%`, an IPv6 server's brackets, non-ASCII) is percent-encoded.
pub fn business_link(user_id: &str) -> String {
    format!(
        "https://matrix.to/#/{}",
        utf8_percent_encode(user_id, IDENTIFIER)
    )
}

/// A file format of the QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrFormat {
    /// A PNG, [`MODULE_PX`] pixels a module.
    Png,
    /// A standalone SVG.
    Svg,
}

impl QrFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            QrFormat::Png => "png",
            QrFormat::Svg => "svg",
        }
    }
}

/// The modules of a QR code with its quiet zone: `side` × `side`, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modules {
    side: usize,
    dark: Vec<bool>,
}

impl Modules {
    /// The code of `text` at error correction level M.
    pub fn of(text: &str) -> Result<Modules, ServiceError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| ServiceError::QrCode(e.to_string()))?;
        let inner = code.width();
        let side = inner + 2 * QUIET_ZONE;
        let mut dark = vec![false; side * side];
        let colors = code.to_colors();
        for (row, line) in colors.chunks(inner).enumerate() {
            let start = (row + QUIET_ZONE) * side + QUIET_ZONE;
            for (cell, color) in dark[start..start + inner].iter_mut().zip(line) {
                *cell = *color == Color::Dark;
            }
        }
        Ok(Modules { side, dark })
    }

    /// Modules per side, the quiet zone included.
    pub fn side(&self) -> usize {
        self.side
    }

    /// Whether the module in column `x`, row `y` is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.side + x]
    }

    /// How many modules are dark.
    pub fn dark_count(&self) -> usize {
        self.dark.iter().filter(|d| **d).count()
    }

    /// Grey pixels (0 black, 255 white), `scale` pixels a module: returns the side in
    /// pixels and the pixels row by row. The PNG and the app's image are drawn from this.
    pub fn pixels(&self, scale: u32) -> (u32, Vec<u8>) {
        let scale = scale.max(1) as usize;
        let side = self.side * scale;
        let mut pixels = Vec::with_capacity(side * side);
        for y in 0..side {
            pixels.extend((0..side).map(|x| {
                if self.is_dark(x / scale, y / scale) {
                    0
                } else {
                    255
                }
            }));
        }
        (side as u32, pixels)
    }

    /// A PNG (8-bit greyscale), `scale` pixels a module.
    pub fn png(&self, scale: u32) -> Result<Vec<u8>, ServiceError> {
        let (side, pixels) = self.pixels(scale);
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()
            .and_then(|mut w| w.write_image_data(&pixels))
            .map_err(|e| ServiceError::QrCode(e.to_string()))?;
        Ok(out)
    }

    /// A standalone SVG: a white square and one black path of the dark modules (each
    /// horizontal run one rectangle), in a `viewBox` of modules, with no external
    /// reference.
    pub fn svg(&self) -> String {
        let side = self.side;
        let mut path = String::new();
        for y in 0..side {
            let mut x = 0;
            while x < side {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let run = (x..side).take_while(|&i| self.is_dark(i, y)).count();
                let _ = write!(path, "M{x} {y}h{run}v1h-{run}z");
                x += run;
            }
        }
        let px = side * MODULE_PX as usize;
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
             width=\"{px}\" height=\"{px}\" viewBox=\"0 0 {side} {side}\" \
             shape-rendering=\"crispEdges\">\n\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/>\n\
             <path fill=\"#000000\" d=\"{path}\"/>\n\
             </svg>\n"
        )
    }
}

/// The QR code of `link` as a PNG, [`MODULE_PX`] pixels a module.
pub fn qr_png(link: &str) -> Result<Vec<u8>, ServiceError> {
    Modules::of(link)?.png(MODULE_PX)
}

/// The QR code of `link` as a standalone SVG.
pub fn qr_svg(link: &str) -> Result<String, ServiceError> {
    Ok(Modules::of(link)?.svg())
}

/// Writes the QR code of `link` to `path` in `format` (0600, replaced atomically).
pub fn write(link: &str, format: QrFormat, path: &Path) -> Result<(), ServiceError> {
    let bytes = match format {
        QrFormat::Png => qr_png(link)?,
        QrFormat::Svg => qr_svg(link)?.into_bytes(),
    };
    write_private(path, &bytes).map_err(|source| ServiceError::Write {
        path: path.to_owned(),
        source,
    })
}

impl super::Service {
    /// The signed-in account's business link (from the session: no network).
    pub fn business_link(&self) -> Result<String, ServiceError> {
        self.with_account(|k| k.user_id())
            .filter(|id| !id.is_empty())
            .map(|id| business_link(&id))
            .ok_or(ServiceError::NotSignedIn)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const LINK: &str = "https://matrix.to/#/@anna:example.org";

    /// What a phone's camera reads from grey pixels.
    fn decode(side: usize, pixels: &[u8]) -> String {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        let (meta, content) = grids[0].decode().expect("the QR code decodes");
        // The format bits of level M are 00 (ISO/IEC 18004, table 12).
        assert_eq!(meta.ecc_level, 0, "error correction M");
        content
    }

    fn decode_png(bytes: &[u8]) -> String {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.width, info.height, "square");
        decode(info.width as usize, &buf[..info.buffer_size()])
    }

    /// Reads the SVG's rectangles back into a grid of modules, as a rasteriser would.
    fn svg_modules(svg: &str) -> (usize, Vec<bool>) {
        let side: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("a viewBox in modules");
        let d = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("one path");
        let mut dark = vec![false; side * side];
        for rect in d.split('z').filter(|r| !r.is_empty()) {
            // M{x} {y}h{run}v1h-{run}
            let (xy, rest) = rect[1..].split_once('h').expect("h");
            let (x, y) = xy.split_once(' ').expect("x y");
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let run: usize = rest.split_once('v').expect("v").0.parse().unwrap();
            assert_eq!(
                rest,
                format!("{run}v1h-{run}"),
                "a rectangle one module high"
            );
            for i in x..x + run {
                dark[y * side + i] = true;
            }
        }
        (side, dark)
    }

    #[test]
    fn the_link_is_matrix_to_with_the_user_id() {
        assert_eq!(business_link("@anna:example.org"), LINK);
        assert_eq!(
            business_link("@anna.weiss-2_x=y/z:matrix.example.org:8448"),
            "https://matrix.to/#/@anna.weiss-2_x=y%2Fz:matrix.example.org:8448"
        );
        // A historical id's `#`, `%`, `?` and an IPv6 server's brackets are encoded.
        assert_eq!(
            business_link("@a#b%c?d:[::1]:8448"),
            "https://matrix.to/#/@a%23b%25c%3Fd:%5B::1%5D:8448"
        );
        assert_eq!(
            business_link("@jürgen:example.org"),
            "https://matrix.to/#/@j%C3%BCrgen:example.org"
        );
    }

    #[test]
    fn the_png_decodes_to_exactly_the_link() {
        let png = qr_png(LINK).unwrap();
        assert_eq!(decode_png(&png), LINK);
        // Printable: 10 px a module, the quiet zone white.
        let modules = Modules::of(LINK).unwrap();
        let (side, pixels) = modules.pixels(MODULE_PX);
        assert_eq!(side as usize, modules.side() * MODULE_PX as usize);
        let quiet = QUIET_ZONE * MODULE_PX as usize;
        assert!(pixels[..quiet * side as usize].iter().all(|p| *p == 255));
        assert!(pixels.iter().all(|p| *p == 0 || *p == 255), "crisp");
    }

    #[test]
    fn the_svg_holds_the_same_modules_and_decodes_to_the_link() {
        let svg = qr_svg(LINK).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("href"), "no external reference");
        let modules = Modules::of(LINK).unwrap();
        let (side, dark) = svg_modules(&svg);
        assert_eq!(side, modules.side());
        assert_eq!(dark.iter().filter(|d| **d).count(), modules.dark_count());
        for y in 0..side {
            for x in 0..side {
                assert_eq!(dark[y * side + x], modules.is_dark(x, y), "({x}, {y})");
            }
        }
        // Rasterised at 10 px a module, it reads back as the link.
        let scale = MODULE_PX as usize;
        let px = side * scale;
        let pixels: Vec<u8> = (0..px * px)
            .map(|i| {
                let (x, y) = (i % px / scale, i / px / scale);
                if dark[y * side + x] { 0 } else { 255 }
            })
            .collect();
        assert_eq!(decode(px, &pixels), LINK);
    }

    #[test]
    fn a_long_link_still_makes_a_code_and_files_are_private() {
        let long = business_link(&format!("@{}:example.org", "a".repeat(240)));
        assert_eq!(decode_png(&qr_png(&long).unwrap()), long);
        let dir = tempfile::tempdir().unwrap();
        for format in [QrFormat::Png, QrFormat::Svg] {
            let path = dir.path().join(format!("card/link.{}", format.extension()));
            write(LINK, format, &path).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            decode_png(&std::fs::read(dir.path().join("card/link.png")).unwrap()),
            LINK
        );
    }

    #[test]
    fn text_too_long_for_any_code_is_an_error() {
        assert!(matches!(
            Modules::of(&"x".repeat(5000)),
            Err(ServiceError::QrCode(_))
        ));
    }

    #[tokio::test]
    async fn signed_out_there_is_no_link() {
        let dir = tempfile::tempdir().unwrap();
        let svc = super::super::Service::new(
            super::super::ServiceConfig {
                data_dir: dir.path().to_owned(),
                insecure_fast_kdf: true,
            },
            tokio::runtime::Handle::current(),
        );
        assert!(matches!(
            svc.business_link(),
            Err(ServiceError::NotSignedIn)
        ));
    }
}
