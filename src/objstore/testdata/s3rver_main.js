// Runs s3rver for the object-store tests: node s3rver_main.js <s3rver module
// dir> <data dir> <bucket>... Listens on an ephemeral loopback port, prints
// "PORT <n>" once it accepts requests, and exits when its stdin closes, so a
// crashed test never leaves it behind. Virtual-hosted requests use
// <bucket>.s3.localhost.
'use strict';

const [moduleDir, directory, ...buckets] = process.argv.slice(2);
const S3rver = require(moduleDir);

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  serviceEndpoint: 'localhost',
  configureBuckets: buckets.map(name => ({ name, configs: [] })),
});

server
  .run()
  .then(({ port }) => process.stdout.write(`PORT ${port}\n`))
  .catch(err => {
    console.error(err);
    process.exit(1);
  });

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
