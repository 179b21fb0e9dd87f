// client.mjs: tuf-js, the independent TUF client, against sumdbd's /tuf/.
// node client.mjs METADATA_URL TARGETS_URL METADIR TARGETDIR ROOT TARGET...
// The first run trusts ROOT; later runs keep METADIR, so rollback and
// rotation checks carry over.  Prints "TARGET LENGTH SHA256" per target.
import { Updater } from 'tuf-js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const [metaUrl, targetUrl, metaDir, targetDir, rootFile, ...targets] =
    process.argv.slice(2);
fs.mkdirSync(metaDir, { recursive: true });
fs.mkdirSync(targetDir, { recursive: true });
if (!fs.existsSync(path.join(metaDir, 'root.json')))
  fs.copyFileSync(rootFile, path.join(metaDir, 'root.json'));
try {
  const u = new Updater({ metadataBaseUrl: metaUrl, targetBaseUrl: targetUrl,
      metadataDir: metaDir, targetDir: targetDir });
  await u.refresh();
  for (const t of targets) {
    const info = await u.getTargetInfo(t);
    if (!info)
      throw new Error(`no target ${t}`);
    const file = path.join(targetDir, t.replace(/\//g, '_'));
    await u.downloadTarget(info, file);
    const data = fs.readFileSync(file);
    const sha = crypto.createHash('sha256').update(data).digest('hex');
    process.stdout.write(`${t} ${data.length} ${sha}\n`);
  }
} catch (e) {
  process.stderr.write(`tuf-js: ${e.message}\n`);
  process.exit(1);
}
