//! The business link screen (`app/ui/link.slint`, reached from the settings): the
//! account's matrix.to link as selectable text, its QR code as an image, and "Export
//! PNG" / "Export SVG" through the file picker. The link and the code are the service's
//! (`service/link.rs`), the same the CLI's `kontor link` writes.

use std::sync::Arc;

use slint::{ComponentHandle, Image, Rgb8Pixel, SharedPixelBuffer, SharedString};

use super::{
    AppWindow, BusinessLink, ErrorKind, Screen, Session,
    context::Ctx,
    file_picker::{self, Mode},
    view::View,
};
use crate::service::link::{self, MODULE_PX, Modules, QrFormat};

/// Answers the `BusinessLink` callbacks. It keeps no state of its own: the link and
/// the image live in the global.
pub(crate) struct LinkController {
    ctx: Ctx,
}

impl LinkController {
    /// Wires the screen's callbacks.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<LinkController> {
        let me = Arc::new(LinkController { ctx: ctx.clone() });
        let g = window.global::<BusinessLink>();
        {
            let me = me.clone();
            g.on_open(move || me.open());
        }
        {
            let me = me.clone();
            g.on_back(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    w.global::<Session>().set_error(ErrorKind::None);
                    w.global::<Session>().set_screen(Screen::Settings);
                }
            });
        }
        {
            let me = me.clone();
            g.on_export_png(move || me.export(QrFormat::Png));
        }
        {
            let me = me.clone();
            g.on_export_svg(move || me.export(QrFormat::Svg));
        }
        me
    }

    /// Shows the link at once (it is the session's user id: no network, no disk) and
    /// the QR code when it is drawn, off the UI thread.
    fn open(&self) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let link = match self.ctx.service.business_link() {
            Ok(l) => l,
            Err(e) => return self.ctx.fail(e),
        };
        let g = w.global::<BusinessLink>();
        g.set_link(link.as_str().into());
        g.set_exported_file(SharedString::new());
        w.global::<Session>().set_error(ErrorKind::None);
        w.global::<Session>().set_screen(Screen::BusinessLink);
        let ctx = self.ctx.clone();
        self.ctx
            .rt()
            .spawn_blocking(move || match Modules::of(&link) {
                Ok(modules) => {
                    let pixels = rgb(&modules);
                    ctx.on_ui(move |w| {
                        let g = w.global::<BusinessLink>();
                        // Still the same account's screen (not cleared meanwhile).
                        if g.get_link() == link.as_str() {
                            g.set_qr(Image::from_rgb8(pixels));
                        }
                    });
                }
                Err(e) => ctx.fail(e),
            });
    }

    /// Asks where to save the QR code in `format`, then writes it (0600).
    fn export(&self, format: QrFormat) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let link = w.global::<BusinessLink>().get_link().to_string();
        if link.is_empty() {
            return;
        }
        let name = format!("kontor-link.{}", format.extension());
        let ctx = self.ctx.clone();
        file_picker::open(&w, Mode::Save { name }, None, move |picked| {
            let Some(path) = picked else {
                return;
            };
            let ctx2 = ctx.clone();
            ctx.rt()
                .spawn_blocking(move || match link::write(&link, format, &path) {
                    Ok(()) => {
                        let shown = path.display().to_string();
                        ctx2.on_ui(move |w| {
                            w.global::<BusinessLink>().set_exported_file(shown.into())
                        });
                    }
                    Err(e) => ctx2.fail(e),
                });
        });
    }
}

/// The code as black-on-white pixels for a `slint::Image`, as large as the PNG.
fn rgb(modules: &Modules) -> SharedPixelBuffer<Rgb8Pixel> {
    let (side, grey) = modules.pixels(MODULE_PX);
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side, side);
    for (px, g) in buffer.make_mut_slice().iter_mut().zip(grey) {
        *px = Rgb8Pixel { r: g, g, b: g };
    }
    buffer
}

impl View for LinkController {
    fn name(&self) -> &'static str {
        "business_link"
    }

    fn clear(&self, w: &AppWindow) {
        let g = w.global::<BusinessLink>();
        g.set_link(SharedString::new());
        g.set_qr(Image::default());
        g.set_exported_file(SharedString::new());
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let g = w.global::<BusinessLink>();
        format!(
            "link={} qr={:?} exported={}",
            g.get_link(),
            g.get_qr().size(),
            g.get_exported_file()
        )
    }
}
