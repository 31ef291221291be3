"""Independent Iceberg reader for the integration tests: given only the SQL
catalog's SQLite file, print each table's data files and record count as JSON.
Uses nothing of SignalDB: Python's sqlite3, json and Debian's python3-avro."""
import json
import sqlite3
import sys

import avro.datafile
import avro.io


def records(uri):
    with open(uri[len('file://'):], 'rb') as f:
        reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        schema = json.loads(reader.meta['avro.schema'].decode())
        return schema, list(reader)


def main(catalog_path, namespace):
    db = sqlite3.connect(catalog_path)
    out = {}
    rows = db.execute(
        "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = 'signaldb' "
        "AND table_namespace = ? AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)", (namespace,))
    for table, location in rows:
        meta = json.load(open(location[len('file://'):]))
        assert meta['format-version'] == 2
        files, count = [], 0
        current = [s for s in meta.get('snapshots', []) if s['snapshot-id'] == meta['current-snapshot-id']]
        if current:
            _, manifests = records(current[0]['manifest-list'])
            for m in manifests:
                schema, entries = records(m['manifest_path'])
                assert all('field-id' in f for f in schema['fields']), 'manifest fields need field ids'
                for e in entries:
                    if e['status'] != 2:
                        files.append(e['data_file']['file_path'])
                        count += e['data_file']['record_count']
        out[table] = {'files': files, 'records': count,
                      'wal_sequence': current[0]['summary'].get('signaldb.wal-sequence') if current else None}
    print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
