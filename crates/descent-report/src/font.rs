//! The shipped font (DejaVu Sans, free license in `assets/DejaVu-LICENSE.txt`), registered
//! once as plotters' `sans-serif`.

use plotters::style::FontStyle;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the font for every style (idempotent).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            // The bytes are a valid TrueType font shipped with the crate; a failure here would
            // show as missing text, which the figure tests catch.
            let _ = plotters::style::register_font("sans-serif", style, FONT);
        }
    });
}
