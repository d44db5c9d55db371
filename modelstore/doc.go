// Package modelstore provides the model files mclip loads: the model
// directory contract (layout.go), and the real models fetched from the
// Hugging Face hub, verified, cached and usable offline.
//
// # Sources
//
// Each model (package catalog, by image tag; MCLIP_MODEL) names its hub
// repositories and files per tower and variant; ManifestForModel lists
// them. The default model's text tower comes from sentence-transformers/clip-ViT-B-32-multilingual-v1
// (tokenizer, configs, the Dense layer and one ONNX graph: onnx/model.onnx
// for fp32 and fp16, or the int8 graph exported for the CPU: AVX-512 VNNI,
// AVX-512, AVX2 or arm64), the vision tower from Xenova/clip-vit-base-patch32
// (configs and onnx/vision_model{,_quantized,_fp16}.onnx). ManifestFor lists
// the files of a variant; VariantAuto is int8 on CPUs with one of those
// instruction sets and fp32 otherwise.
//
// # Cache
//
// Files land in CACHE/models/<revisions>/text/<path> and .../vision/<path>,
// a complete MODEL_DIR (see Dir), for the default model; every other model
// has its own CACHE/models/<tag>/<revisions>, so two models never mix
// files. CACHE is MCLIP_CACHE_DIR, else
// $XDG_CACHE_HOME/mclip, else ~/.cache/mclip; <revisions> is "main" for the
// default revisions. A directory set with MCLIP_MODEL_DIR is used as is and
// never touches the network.
//
// # Download
//
// Each file is resolved with HEAD {HF_ENDPOINT}/{repo}/resolve/{revision}/{path}
// (the first file of a repository resolves the revision to a commit, the
// others are fetched at that commit), downloaded into
// <dir>/.incomplete/<etag>.incomplete (resumed with a Range request after a
// cut connection, in the same pull or the next), checked against the hub's
// sha256 (LFS files) or git blob sha1 (regular files), and only then renamed
// into place. HF_TOKEN goes to the hub's host only, never to the CDN, and
// never into errors or logs. Pulls of one directory are serialized by a
// file lock (<dir>/.pull.lock). Only https endpoints are accepted, except
// loopback hosts (tests).
//
// # Hugging Face cache
//
// Before a download, the file is looked for in huggingface_hub's cache
// (HFCacheDir: HF_HUB_CACHE, else HF_HOME/hub, else
// ~/.cache/huggingface/hub): its snapshot at the commit the hub resolved,
// else its blob named by the hub's ETag. Offline, the commit is the one the
// lock file pins (with its sha256), else the one the cache's refs name for
// the revision (checked against the etag the snapshot links to). A file
// found is hashed like a download and, when it matches, hard-linked into
// the model directory (copied across file systems), so the directory stays
// a complete MODEL_DIR and the lock file pins it like any other; one that
// does not match is refused and downloaded. The cache is only read. Where
// each file came from is recorded beside the files (.origins.json, see
// Store.Sources).
//
// # Lock file
//
// See LockFileName: the first pull pins the commit and sha256 of every file;
// later pulls, `mclip models verify` and Resolve compare against it, and
// `mclip models pull --update` accepts upstream changes.
//
// # Offline
//
// With HF_HUB_OFFLINE=1, or when the hub cannot be reached, a complete cache
// is used as is, and missing files are taken from the Hugging Face cache
// when it holds them; what is still missing is an IncompleteError naming
// the files and the command that fetches them.
//
// Package hubtest is a fake hub for tests.
package modelstore
