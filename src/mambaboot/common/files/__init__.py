"""The file layer: every file operation on an environment, a cache or a user's file.

Its door is `confined.Root` (a directory held by descriptor; every path below it is resolved
one component at a time, no link followed, no mount crossed). The rest serves it: `removal`
deletes a tree by descriptor, `guarded` deletes a target proved to be the one that was checked,
`noreplace` renames without replacing, `filerewrite` rewrites a file in place as a new inode,
`outputfile` writes what the user names with `-o`, `filelock` locks a lock file, `newdirs` makes
directories and takes back the empty ones it made, `fileid` tells what a path is (a link, which
file, inside what), and `fsops` holds hashing and naming."""
