// The official TypeScript client's multi2vec-clip helper against a Weaviate
// server: create a collection, insert, nearText, nearImage, delete.
// Driven by integration/replaceclip_test.go; prints one JSON line.
// Environment: WEAVIATE_HTTP_PORT, WEAVIATE_GRPC_PORT, IMAGES (base64
// PNGs, comma-separated), TITLES (JSON array of strings).
import weaviate from 'weaviate-client';

const images = process.env.IMAGES.split(',');
const titles = JSON.parse(process.env.TITLES);
const client = await weaviate.connectToLocal({
  host: '127.0.0.1',
  port: Number(process.env.WEAVIATE_HTTP_PORT),
  grpcPort: Number(process.env.WEAVIATE_GRPC_PORT),
});
const name = 'TsClientMade';
try {
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
  const byImage = await coll.query.nearImage(Buffer.from(images[0], 'base64'), { targetVector: 'clip', limit: 3, returnMetadata: ['distance'] });
  const config = await coll.config.get();
  console.log(JSON.stringify({
    inserted: Object.keys(inserted.uuids).length,
    vectorizer: config.vectorizers.clip.vectorizer.name,
    nearText: byText.objects.map((o) => ({ title: o.properties.title, distance: o.metadata.distance })),
    nearImage: byImage.objects.map((o) => ({ title: o.properties.title, distance: o.metadata.distance })),
  }));
  await client.collections.delete(name);
} finally {
  await client.close();
}
