// mclip with Weaviate's official TypeScript client (weaviate-client v3), both ways of running:
//
//   node dist/example.js --mode mclip [--image photo.jpg]   # multi2vec-mclip in weaviate-mclip (`make run`)
//   node dist/example.js --mode clip  [--image photo.jpg]   # multi2vec-clip in stock Weaviate with
//                                                           # CLIP_INFERENCE_API=http://127.0.0.1:8077 (`mclip serve --addr 127.0.0.1:8077`)
//
// --host, --port and --grpc-port say where Weaviate listens (default localhost:8080, gRPC 50051).
import weaviate from 'weaviate-client';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'mclip' },
    host: { type: 'string', default: 'localhost' },
    port: { type: 'string', default: '8080' },
    'grpc-port': { type: 'string', default: '50051' },
    image: { type: 'string' },
  },
});
const mode = args.mode;
if (mode !== 'mclip' && mode !== 'clip') {
  throw new Error(`--mode ${mode}: want mclip or clip`);
}

const client = await weaviate.connectToLocal({
  host: args.host,
  port: Number(args.port),
  grpcPort: Number(args['grpc-port']),
});
const name = mode === 'mclip' ? 'ExampleMclipTs' : 'ExampleClipTs';

try {
  if (await client.collections.exists(name)) {
    await client.collections.delete(name);
  }
  if (mode === 'mclip') {
    // The typed helpers (weaviate.configure.vectors.multi2VecClip and the rest) know only
    // Weaviate's own modules, and their types refuse the name 'multi2vec-mclip' under
    // `tsc --strict`. createFromSchema takes the collection as the REST API spells it.
    await client.collections.createFromSchema({
      class: name,
      vectorConfig: {
        default: {
          vectorizer: { 'multi2vec-mclip': { textFields: ['text'], imageFields: ['image'] } },
          vectorIndexType: 'hnsw',
        },
      },
      properties: [
        { name: 'text', dataType: ['text'] },
        { name: 'image', dataType: ['blob'] },
      ],
    });
  } else {
    // Stock Weaviate's multi2vec-clip module, its inference container replaced by `mclip serve`.
    await client.collections.create({
      name,
      properties: [
        { name: 'text', dataType: weaviate.configure.dataType.TEXT },
        { name: 'image', dataType: weaviate.configure.dataType.BLOB },
      ],
      vectorizers: weaviate.configure.vectors.multi2VecClip({ textFields: ['text'], imageFields: ['image'] }),
    });
  }

  const docs = client.collections.get(name);
  const objects: Record<string, string>[] = [
    { text: 'ein Hund spielt im Schnee' },
    { text: 'a red bicycle by the sea' },
    { text: '湯気の立つ一杯のコーヒー' },
  ];
  const image = args.image ? readFileSync(args.image).toString('base64') : undefined;
  if (image) {
    objects.push({ image });
  }
  const res = await docs.data.insertMany(objects);
  if (res.hasErrors) {
    throw new Error(`import: ${JSON.stringify(res.errors)}`);
  }
  console.log(`imported ${objects.length} objects into ${name} (${mode})`);

  // Text in any of the model's languages finds text and images.
  const byText = await docs.query.nearText('a dog in the snow', { limit: 2, returnMetadata: ['distance'] });
  for (const o of byText.objects) {
    console.log(`nearText "a dog in the snow": ${o.properties.text ?? '(an image)'} (distance ${o.metadata?.distance?.toFixed(4)})`);
  }

  if (image) {
    // nearImage takes a Buffer (a string would be read as a file path)
    const byImage = await docs.query.nearImage(Buffer.from(image, 'base64'), { limit: 1, returnMetadata: ['distance'] });
    const best = byImage.objects[0];
    if (!best || best.uuid !== res.uuids[objects.length - 1]) {
      throw new Error(`nearImage with the imported image did not find it first: ${JSON.stringify(best)}`);
    }
    console.log(`nearImage: the imported image comes first (distance ${best.metadata?.distance?.toFixed(4)})`);
  }
} finally {
  await client.close();
}
