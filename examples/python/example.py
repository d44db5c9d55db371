"""mclip with Weaviate's official Python client (weaviate-client v4), both ways of running:

    python example.py --mode mclip [--image photo.jpg]   # multi2vec-mclip in weaviate-mclip (`make run`)
    python example.py --mode clip  [--image photo.jpg]   # multi2vec-clip in stock Weaviate with
                                                         # CLIP_INFERENCE_API=http://127.0.0.1:8077 (`mclip serve`)

--host, --port and --grpc-port say where Weaviate listens (default localhost:8080, gRPC 50051).
Install the client with `pip install -r requirements.txt`.
"""

import argparse
import base64

import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.classes.query import MetadataQuery


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["mclip", "clip"], default="mclip")
    p.add_argument("--host", default="localhost")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--grpc-port", type=int, default=50051)
    p.add_argument("--image", help="an image (JPEG, PNG, WebP, ...) to import and search with")
    args = p.parse_args()

    name = "ExampleMclipPy" if args.mode == "mclip" else "ExampleClipPy"
    with weaviate.connect_to_local(host=args.host, port=args.port, grpc_port=args.grpc_port) as client:
        client.collections.delete(name)
        if args.mode == "mclip":
            # The client's Configure helpers know only Weaviate's own modules;
            # create_from_dict takes the collection as the REST API spells it.
            client.collections.create_from_dict({
                "class": name,
                "vectorizer": "multi2vec-mclip",
                "moduleConfig": {"multi2vec-mclip": {"textFields": ["text"], "imageFields": ["image"]}},
                "properties": [
                    {"name": "text", "dataType": ["text"]},
                    {"name": "image", "dataType": ["blob"]},
                ],
            })
        else:
            # Stock Weaviate's multi2vec-clip module, its inference container replaced by `mclip serve`.
            client.collections.create(
                name,
                properties=[
                    Property(name="text", data_type=DataType.TEXT),
                    Property(name="image", data_type=DataType.BLOB),
                ],
                vectorizer_config=Configure.Vectorizer.multi2vec_clip(text_fields=["text"], image_fields=["image"]),
            )
        docs = client.collections.get(name)

        objects = [
            {"text": "ein Hund spielt im Schnee"},
            {"text": "a red bicycle by the sea"},
            {"text": "湯気の立つ一杯のコーヒー"},
        ]
        image = None
        if args.image:
            with open(args.image, "rb") as f:
                image = base64.b64encode(f.read()).decode("ascii")
            objects.append({"image": image})
        res = docs.data.insert_many(objects)
        if res.has_errors:
            raise SystemExit(f"import: {res.errors}")
        print(f"imported {len(objects)} objects into {name} ({args.mode})")

        # Text in any of the model's languages finds text and images.
        hits = docs.query.near_text(query="a dog in the snow", limit=2, return_metadata=MetadataQuery(distance=True))
        for o in hits.objects:
            print(f'nearText "a dog in the snow": {o.properties.get("text") or "(an image)"} (distance {o.metadata.distance:.4f})')

        if image:
            hits = docs.query.near_image(near_image=image, limit=1, return_metadata=MetadataQuery(distance=True))
            if not hits.objects or hits.objects[0].uuid != res.uuids[len(objects) - 1]:
                raise SystemExit(f"nearImage with the imported image did not find it first: {hits.objects}")
            print(f"nearImage: the imported image comes first (distance {hits.objects[0].metadata.distance:.4f})")


if __name__ == "__main__":
    main()
