// A multi2vec-clip collection made with the TypeScript client's typed helper
// (weaviate.configure.vectorizer.multi2VecClip), for a server that serves
// multi2vec-clip: stock Weaviate with CLIP_INFERENCE_API pointing at
// `mclip serve`, or weaviate-mclip with MCLIP_REPLACE_MULTI2VEC_CLIP=true
// (docs/migration.md, "Keep the data"). It creates the
// collection, inserts one object per --title (with the --image files in
// turn), searches with nearText (the second title) and nearImage (the first
// image), deletes the collection and prints one JSON line.
//
//   node dist/multi2vecclip.js --port 8080 --grpc-port 50051 \
//     --title 'a dog in the snow' --title 'ein Hund im Schnee' --image a.png --image b.png
//
// integration/replaceclip_test.go runs it against the switched server.
import weaviate from 'weaviate-client';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: 'localhost' },
    port: { type: 'string', default: '8080' },
    'grpc-port': { type: 'string', default: '50051' },
    title: { type: 'string', multiple: true, default: [] },
    image: { type: 'string', multiple: true, default: [] },
  },
});
const titles = args.title;
const images = args.image.map((path) => readFileSync(path).toString('base64'));
if (titles.length < 2 || images.length < 1) {
  throw new Error('want at least two --title and one --image');
}

const client = await weaviate.connectToLocal({
  host: args.host,
  port: Number(args.port),
  grpcPort: Number(args['grpc-port']),
});
const name = 'TsClientMade';
try {
  if (await client.collections.exists(name)) {
    await client.collections.delete(name);
  }
  await client.collections.create({
    name,
    properties: [
      { name: 'title', dataType: 'text' },
      { name: 'image', dataType: 'blob' },
    ],
    vectorizers: weaviate.configure.vectorizer.multi2VecClip({
      name: 'clip',
      textFields: [{ name: 'title', weight: 0.3 }],
      imageFields: [{ name: 'image', weight: 0.7 }],
    }),
  });
  const coll = client.collections.get(name);
  const inserted = await coll.data.insertMany(titles.map((title, i) => ({ title, image: images[i % images.length] })));
  if (inserted.hasErrors) {
    throw new Error('insert: ' + JSON.stringify(inserted.errors));
  }
  const byText = await coll.query.nearText(titles[1], { targetVector: 'clip', limit: 3, returnMetadata: ['distance'] });
  // a string is read as a file path; the image goes as bytes
  const byImage = await coll.query.nearImage(Buffer.from(images[0], 'base64'), {
    targetVector: 'clip',
    limit: 3,
    returnMetadata: ['distance'],
  });
  const config = await coll.config.get();
  const hits = (objects: typeof byText.objects) =>
    objects.map((o) => ({ title: o.properties.title, distance: o.metadata?.distance }));
  console.log(JSON.stringify({
    inserted: Object.keys(inserted.uuids).length,
    vectorizer: config.vectorizers.clip?.vectorizer.name,
    nearText: hits(byText.objects),
    nearImage: hits(byImage.objects),
  }));
  await client.collections.delete(name);
} finally {
  await client.close();
}
