//! Reading QR codes back in the tests, as a phone's camera would (rqrr): from grey pixels
//! (a photograph of the window) or from a PNG file (an export). Shared by the CLI tests
//! (`cli.rs`) and the UI stories (`ui/main.rs`).

use std::path::Path;

/// The QR codes rqrr finds in `w` × `h` grey pixels, decoded (undecodable ones left out).
pub fn read_codes(w: usize, h: usize, grey: impl Fn(usize, usize) -> u8) -> Vec<String> {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, grey);
    image
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// The QR codes in a greyscale PNG file (what Kontor exports).
pub fn codes_in_png(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).expect("the PNG");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut grey = vec![0; reader.output_buffer_size().expect("size")];
    let frame = reader.next_frame(&mut grey).expect("its pixels");
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let w = frame.width as usize;
    read_codes(w, frame.height as usize, |x, y| grey[y * w + x])
}
