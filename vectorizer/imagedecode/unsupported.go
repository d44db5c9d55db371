package imagedecode

import "bytes"

// unsupportedSignatures name formats that Sniff recognises but Decode does
// not read, so that the error says what the data is.
var unsupportedSignatures = []struct {
	name  string
	magic string
	at    int
}{
	{"PSD", "8BPS", 0},
	{"JPEG 2000", "\x00\x00\x00\x0cjP  \r\n\x87\n", 0},
	{"JPEG 2000", "\xff\x4f\xff\x51", 0},
	{"JPEG XL", "\xff\x0a", 0},
	{"JPEG XL", "\x00\x00\x00\x0cJXL \r\n\x87\n", 0},
	{"PDF", "%PDF", 0},
	{"EPS", "%!PS", 0},
	{"EPS", "\xc5\xd0\xd3\xc6", 0},
	{"ICNS", "icns", 0},
	{"DDS", "DDS ", 0},
	{"QOI", "qoif", 0},
	{"OpenEXR", "\x76\x2f\x31\x01", 0},
	{"Radiance HDR", "#?RADIANCE", 0},
	{"Radiance HDR", "#?RGBE", 0},
	{"GIMP XCF", "gimp xcf", 0},
	{"PAM", "P7\n", 0},
	{"PFM", "PF\n", 0},
	{"PFM", "Pf\n", 0},
	{"SGI", "\x01\xda", 0},
	{"Sun raster", "\x59\xa6\x6a\x95", 0},
	{"FITS", "SIMPLE  =", 0},
	{"DCX", "\xb1\x68\xde\x3a", 0},
	{"BLP", "BLP1", 0},
	{"BLP", "BLP2", 0},
	{"WMF", "\xd7\xcd\xc6\x9a", 0},
	{"EMF", " EMF", 40},
	{"XBM", "#define", 0},
	{"XPM", "/* XPM */", 0},
	{"MNG", "\x8aMNG\r\n\x1a\n", 0},
	{"JNG", "\x8bJNG\r\n\x1a\n", 0},
	{"FLIF", "FLIF", 0},
}

// unsupportedFormat names data's format when it is one Decode does not
// read, or returns "".
func unsupportedFormat(data []byte) string {
	for _, s := range unsupportedSignatures {
		if len(data) >= s.at+len(s.magic) && string(data[s.at:s.at+len(s.magic)]) == s.magic {
			return s.name
		}
	}
	if brand, ok := isoBrand(data); ok {
		return "ISO media (" + brand + ")"
	}
	head := bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n\xef\xbb\xbf")
	if bytes.HasPrefix(head, []byte("<svg")) || bytes.HasPrefix(head, []byte("<?xml")) && bytes.Contains(data[:min(len(data), 4096)], []byte("<svg")) {
		return "SVG"
	}
	return ""
}

// isoBrand returns the major brand of an ISO base media file ("ftyp" box
// first), the container of HEIF, AVIF and MP4.
func isoBrand(data []byte) (string, bool) {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return "", false
	}
	return string(bytes.TrimRight(data[8:12], " \x00")), true
}
