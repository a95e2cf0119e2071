#!/bin/sh
# build-offline.sh: build sandbox images from Debian packages, without a registry.
#
#   build-offline.sh [--engine docker|podman|bubblewrap] [--from ENGINE] [--force] LANG...
#   build-offline.sh [--engine docker|podman|bubblewrap] [--from ENGINE] [--force] --all
#   build-offline.sh [--engine docker|podman|bubblewrap] [--from ENGINE] [--force] --tag IMAGE LANG
#   build-offline.sh [--engine docker|podman|bubblewrap] --list
#
# Each images/LANG/recipe.conf names the image and what goes into it. The root
# filesystem comes from mmdebstrap (Debian packages only) and is imported into the
# engine with the CMD, WORKDIR and ENV that images/LANG/Dockerfile gives the online
# build. The image is labelled with a hash of recipe.conf and Dockerfile; a build is
# skipped when the image is still the one such a build made (it carries the current
# hash and its history is the import alone), unless --force is given.
# --tag builds one recipe under another name (a test image), leaving IMAGE alone.
#
# A recipe with RUNNER=DIR also gets llmsbx-runner, compiled here statically
# from its sources (runner/ beside this directory in the source tree,
# images/runner/ where installed, or $LLMSBX_RUNNER_SOURCE), and its Python
# and Node.js adapters, in DIR; their sources are part of the recipe hash, so
# a changed runner rebuilds the images that carry it.
#
# --engine bubblewrap needs no engine: the tree is unpacked into the bubblewrap
# backend's image store (docs/images.md), as images/HASH with a tag naming it;
# $LLMSBX_BUBBLEWRAP_STORE overrides where that store is. With --from docker (or
# podman) the tree is exported from that engine's image instead of built again,
# when the engine has it up to date with the current recipe.
#
# recipe.conf is parsed here rather than sourced: its values become command
# arguments, so each one is checked against a narrow character set first.
#
# Exit status: 0 on success, 1 when a build fails, 2 on a usage error.

set -eu
export LC_ALL=C

prog=build-offline.sh
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
suite=bookworm
label=io.llmsbx.recipe-hash
engine=docker
force=0
all=0
list=0
tag=
from=
tmp=

say () { printf '%s: %s\n' "$prog" "$*"; }
die () { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage () {
  printf '%s\n' \
    "usage: $prog [--engine docker|podman|bubblewrap] [--from ENGINE] [--force] LANG..." \
    "       $prog [--engine docker|podman|bubblewrap] [--from ENGINE] [--force] --all" \
    "       $prog [--engine docker|podman|bubblewrap] [--from ENGINE] [--force] --tag IMAGE LANG" \
    "       $prog [--engine docker|podman|bubblewrap] --list" >&2
  exit 2
}

available () {
  names=
  for f in "$here"/*/recipe.conf; do
    [ -f "$f" ] || continue
    d=${f%/recipe.conf}
    names="$names${names:+ }${d##*/}"
  done
  printf '%s\n' "$names"
}

# read_recipe FILE: sets IMAGE, PACKAGES, ENV, WORKDIR and RUNNER from FILE.
read_recipe () {
  IMAGE='' PACKAGES='' ENV='' WORKDIR='' RUNNER=''
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case $line in
      '' | '#'*) continue ;;
      [A-Z]*=*) ;;
      *) die "$1:$n: expected KEY=VALUE or a # comment" ;;
    esac
    key=${line%%=*}
    value=${line#*=}
    case $value in
      \"*\") value=${value#\"}; value=${value%\"} ;;
    esac
    case $value in
      *[!A-Za-z0-9_.,:/=+@' '-]*)
        die "$1:$n: the value of $key may only contain letters, digits, spaces and _.,:/=+@-" ;;
    esac
    case $key in
      IMAGE) IMAGE=$value ;;
      PACKAGES) PACKAGES=$value ;;
      ENV) ENV=$value ;;
      WORKDIR) WORKDIR=$value ;;
      RUNNER) RUNNER=$value ;;
      *) die "$1:$n: unknown key $key (known: IMAGE, PACKAGES, ENV, WORKDIR, RUNNER)" ;;
    esac
  done < "$1"

  case $IMAGE in
    '' | *[!a-z0-9._/:-]*) die "$1: IMAGE must be a lowercase image name like llmsbx/python:bookworm" ;;
  esac
  [ -n "$PACKAGES" ] || die "$1: PACKAGES is empty"
  for p in $PACKAGES; do
    case $p in
      [a-z0-9]*) case $p in *[!a-z0-9+.-]*) die "$1: '$p' is not a Debian package name" ;; esac ;;
      *) die "$1: '$p' is not a Debian package name" ;;
    esac
  done
  for kv in $ENV; do
    case $kv in
      [A-Za-z_]*=*) case ${kv%%=*} in *[!A-Za-z0-9_]*) die "$1: ENV entry '$kv' is not NAME=VALUE" ;; esac ;;
      *) die "$1: ENV entry '$kv' is not NAME=VALUE" ;;
    esac
  done
  case $WORKDIR in
    /*) ;;
    *) die "$1: WORKDIR must be an absolute path" ;;
  esac
  case $WORKDIR in
    *' '* | *..* | *[!A-Za-z0-9_./-]*) die "$1: WORKDIR may only contain letters, digits and _./- (no ..)" ;;
  esac
  case $RUNNER in
    '') ;;
    /*[!/]) case $RUNNER in
              *' '* | *..* | *[!A-Za-z0-9_./-]*) die "$1: RUNNER may only contain letters, digits and _./- (no ..)" ;;
            esac ;;
    *) die "$1: RUNNER must be an absolute directory like /usr/libexec/llmsbx" ;;
  esac
}

# The runner's sources, in the order they are hashed.
runner_files='llmsbx-runner.c llmsbx-runner-protocol.h python/llmsbx_runner_python.py node/llmsbx_runner_node.js'

# runner_source: the directory holding the runner's sources, or a clear error.
runner_source () {
  for d in ${LLMSBX_RUNNER_SOURCE:-} "$here/../runner" "$here/runner"; do
    if [ -f "$d/llmsbx-runner.c" ]; then
      (CDPATH='' cd -- "$d" && pwd)
      return 0
    fi
  done
  die "the recipe wants llmsbx-runner, but its sources are not in $here/../runner or $here/runner; set LLMSBX_RUNNER_SOURCE"
}

# recipe_dir LANG: the directory of LANG's recipe, or a clear error.
recipe_dir () {
  case $1 in
    '' | *[!a-z0-9_+-]*) die "'$1' is not a language name (available: $(available))" ;;
  esac
  [ -f "$here/$1/recipe.conf" ] || die "no recipe for '$1' in $here (available: $(available))"
  [ -f "$here/$1/Dockerfile" ] || die "$here/$1 has no Dockerfile; every recipe needs one for online builds"
  printf '%s\n' "$here/$1"
}

# recipe_hash DIR: after read_recipe; the runner's sources count when RUNNER is set.
recipe_hash () {
  if [ -n "$RUNNER" ]; then
    src=$(runner_source) || exit 1
    # shellcheck disable=SC2086
    (cd -- "$src" && cat -- "$1/recipe.conf" "$1/Dockerfile" $runner_files) | sha256sum | cut -d' ' -f1
  else
    cat -- "$1/recipe.conf" "$1/Dockerfile" | sha256sum | cut -d' ' -f1
  fi
}

# build_runner DIR: compiles the runner statically into DIR, with its adapter.
build_runner () {
  src=$(runner_source) || exit 1
  cc=${CC:-cc}
  command -v "$cc" >/dev/null 2>&1 || die "building llmsbx-runner needs a C compiler (apt-get install gcc libc6-dev)"
  mkdir -p "$1"
  say "+ $cc -static -O2 -s -o $1/llmsbx-runner $src/llmsbx-runner.c"
  "$cc" -static -O2 -s -o "$1/llmsbx-runner" "$src/llmsbx-runner.c" ||
    die "compiling llmsbx-runner failed (a static link needs libc6-dev)"
  cp -- "$src/python/llmsbx_runner_python.py" "$src/node/llmsbx_runner_node.js" "$1/"
  chmod 0755 "$1/llmsbx-runner"
  chmod 0644 "$1/llmsbx_runner_python.py" "$1/llmsbx_runner_node.js"
}

# The bubblewrap image store, as the plugin finds it (llmsbx-bubblewrap-rootfs.c).
store_dir () {
  if [ -n "${LLMSBX_BUBBLEWRAP_STORE:-}" ]; then
    printf '%s\n' "$LLMSBX_BUBBLEWRAP_STORE"
  elif [ "$(id -u)" = 0 ]; then
    printf '%s\n' /var/lib/llmsbx/bubblewrap
  else
    printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/llmsbx/bubblewrap"
  fi
}

# tag_file IMAGE: the store's tag file of IMAGE (its name URI-escaped, as GLib does).
tag_file () {
  printf '%s/tags/%s\n' "$(store_dir)" "$(printf '%s' "$1" | sed 's/%/%25/g; s,/,%2F,g; s/:/%3A/g')"
}

# store_id IMAGE: the id of the store image IMAGE names; empty when none.
store_id () {
  f=$(tag_file "$1")
  if [ -f "$f" ]; then tr -d '\n' < "$f"; fi
}

# image_state IMAGE HASH [ENGINE]: up-to-date when IMAGE is what a build of the
# recipe with HASH made: it carries that hash, and its history is the import
# alone. A commit or a build onto its tag keeps the label but adds history (even
# when it changes no file): modified. outdated when the label differs or is
# missing, missing without an image. In the bubblewrap store, a recipe's image
# has the RecipeHash key and a commit's names what it was CommittedFrom.
image_state () {
  e=${3:-$engine}
  if [ "$e" = bubblewrap ]; then
    id=$(store_id "$1")
    config="$(store_dir)/images/$id/config"
    if [ -z "$id" ] || [ ! -f "$config" ]; then
      echo missing
    elif [ "$(sed -n 's/^RecipeHash=//p' "$config")" = "$2" ]; then
      echo up-to-date
    elif grep -q '^CommittedFrom=' "$config"; then
      echo modified
    else
      echo outdated
    fi
    return 0
  fi
  found_hash=$("$e" image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null) ||
    { echo missing; return 0; }
  if [ "$found_hash" != "$2" ]; then
    echo outdated
  elif [ "$("$e" history -q "$1" 2>/dev/null | wc -l)" -eq 1 ]; then
    echo up-to-date
  else
    echo modified
  fi
}

engine_reachable () {
  [ "$engine" = bubblewrap ] && return 0
  "$engine" info >/dev/null 2>&1
}

list_recipes () {
  reachable=0
  { [ "$engine" = bubblewrap ] || command -v "$engine" >/dev/null 2>&1; } && engine_reachable && reachable=1
  for lang in $(available); do
    dir=$(recipe_dir "$lang")
    read_recipe "$dir/recipe.conf"
    if [ $reachable = 0 ]; then
      state="unknown ($engine unreachable)"
    else
      state=$(image_state "$IMAGE" "$(recipe_hash "$dir")")
    fi
    printf '%s\t%s\t%s\n' "$lang" "$IMAGE" "$state"
  done
}

# bootstrap ROOTFS_TAR STAGE: the recipe's root filesystem as a tarball, with
# the runner staged in the directory STAGE when the recipe wants it.
bootstrap () {
  include=$(printf '%s' "$PACKAGES" | tr -s ' ' ',')

  say "$lang: building $IMAGE from Debian $suite packages: $PACKAGES"
  # The runner goes in with a hook too; without RUNNER that hook does nothing.
  runner_hook=':'
  if [ -n "$RUNNER" ]; then
    build_runner "$2"
    # shellcheck disable=SC2016
    runner_hook='mkdir -p "$1$LLMSBX_RUNNER_DIR" && cp -p "$LLMSBX_RUNNER_STAGE"/* "$1$LLMSBX_RUNNER_DIR"/'
  fi
  say "+ mmdebstrap --variant=minbase --include=$include --customize-hook='mkdir -p \"\$1$WORKDIR\"' $suite $1"
  # The hooks read their values from the environment, so none is pasted into shell code.
  # Without a terminal mmdebstrap reads a sources.list from standard input: an
  # empty one makes it use its default mirror, also where CI gives no stdin.
  # shellcheck disable=SC2016
  LLMSBX_WORKDIR=$WORKDIR LLMSBX_RUNNER_DIR=$RUNNER LLMSBX_RUNNER_STAGE=$2 \
    mmdebstrap --variant=minbase --include="$include" \
    --customize-hook='mkdir -p "$1$LLMSBX_WORKDIR"' \
    --customize-hook="$runner_hook" \
    "$suite" "$1" </dev/null ||
    die "$lang: mmdebstrap failed; its messages above say why"
}

# store_in_use ID: whether a tag, an image or a sandbox of the store still uses ID.
store_in_use () {
  s=$(store_dir)
  for f in "$s"/tags/* "$s"/images/*/config "$s"/sandboxes/*/state; do
    [ -f "$f" ] || continue
    case $f in "$s/images/$1/config") continue ;; esac
    grep -q -- "$1" "$f" && return 0
  done
  return 1
}

# build_in_store LANG HASH: unpacks the recipe's tree into the bubblewrap store.
build_in_store () {
  s=$(store_dir)
  old_id=$(store_id "$IMAGE")
  mkdir -p "$s/images" "$s/tags"
  # In the store itself, so the final rename stays on one file system.
  tmp=$(mktemp -d "$s/images/.build.XXXXXX")
  # Readable like the tree in it: sandboxes of other users may stack on it.
  chmod 755 "$tmp"
  mkdir "$tmp/rootfs"

  # The engine's image is the recipe's own, also for a --tag build.
  if [ -n "$from" ] && [ "$(image_state "$RECIPE_IMAGE" "$2" "$from")" = up-to-date ]; then
    say "$1: exporting $RECIPE_IMAGE from $from (same recipe hash) into $s"
    cid=$("$from" create --label io.llmsbx.managed-by=build-offline "$RECIPE_IMAGE" true) ||
      die "$1: '$from create' failed"
    "$from" export "$cid" | tar -x -p --numeric-owner -C "$tmp/rootfs" -f - ||
      { "$from" rm -f "$cid" >/dev/null 2>&1; die "$1: exporting $RECIPE_IMAGE from $from failed"; }
    "$from" rm -f "$cid" >/dev/null
    # The engine marks its containers; this tree is no container of it.
    rm -f -- "$tmp/rootfs/.dockerenv"
  else
    [ -z "$from" ] || say "$1: $from has no $RECIPE_IMAGE with the current recipe, building it"
    bootstrap "$tmp/rootfs.tar" "$tmp/runner"
    say "+ tar -x -C $tmp/rootfs -f $tmp/rootfs.tar"
    if [ "$(id -u)" = 0 ]; then
      tar -x -p --numeric-owner -C "$tmp/rootfs" -f "$tmp/rootfs.tar" || die "$1: unpacking failed"
    else
      # Device nodes cannot be made, and the sandbox gets its own /dev anyway.
      tar -x --no-same-owner --exclude='./dev/*' -C "$tmp/rootfs" -f "$tmp/rootfs.tar" || die "$1: unpacking failed"
    fi
    rm -rf -- "$tmp/rootfs.tar" "$tmp/runner"
  fi
  mkdir -p "$tmp/rootfs$WORKDIR"

  {
    printf '[Image]\nName=%s\nRecipeHash=%s\nWorkingDir=%s\nCmd=sleep;infinity;\n' "$IMAGE" "$2" "$WORKDIR"
    printf 'Env='
    for kv in $ENV; do printf '%s;' "$kv"; done
    printf '\nCreated=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } > "$tmp/config"

  if [ -d "$s/images/$2" ]; then
    # The same recipe, built before: keep the tree sandboxes may be using.
    rm -rf -- "$tmp"
  else
    mv -- "$tmp" "$s/images/$2"
  fi
  tmp=
  printf '%s\n' "$2" > "$(tag_file "$IMAGE").tmp"
  mv -- "$(tag_file "$IMAGE").tmp" "$(tag_file "$IMAGE")"

  if [ -n "$old_id" ] && [ "$old_id" != "$2" ] && ! store_in_use "$old_id"; then
    rm -rf -- "${s:?}/images/$old_id"
    say "$1: removed the previous image $old_id"
  fi
  say "$1: built $IMAGE in $s (images/$2)"
}

build_one () {
  lang=$1
  dir=$(recipe_dir "$lang")
  read_recipe "$dir/recipe.conf"
  hash=$(recipe_hash "$dir")
  RECIPE_IMAGE=$IMAGE
  if [ -n "$tag" ]; then
    IMAGE=$tag
  fi

  state=$(image_state "$IMAGE" "$hash")
  if [ $force = 0 ] && [ "$state" = up-to-date ]; then
    say "$lang: $IMAGE is up to date (recipe hash ${hash%"${hash#????????????}"}), skipping; --force rebuilds it"
    return 0
  fi
  if [ "$state" = modified ]; then
    say "$lang: $IMAGE has layers on top of the recipe's (a commit or a build onto its tag): rebuilding"
  fi
  if [ "$engine" = bubblewrap ]; then
    build_in_store "$lang" "$hash"
    return 0
  fi
  old_id=$("$engine" image inspect --format '{{ .Id }}' "$IMAGE" 2>/dev/null || true)

  tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/llmsbx-image.XXXXXX")
  bootstrap "$tmp/rootfs.tar" "$tmp/runner"

  set -- --change 'CMD ["sleep", "infinity"]' --change "WORKDIR $WORKDIR" --change "LABEL $label=$hash"
  for kv in $ENV; do
    set -- "$@" --change "ENV $kv"
  done
  say "+ $engine import $* $tmp/rootfs.tar $IMAGE"
  "$engine" import "$@" "$tmp/rootfs.tar" "$IMAGE" >/dev/null ||
    die "$lang: '$engine import' failed"

  rm -rf -- "$tmp"
  tmp=
  # Drop the image this build replaced; an image still in use or tagged elsewhere stays.
  new_id=$("$engine" image inspect --format '{{ .Id }}' "$IMAGE")
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ] &&
     "$engine" image rm "$old_id" >/dev/null 2>&1; then
    say "$lang: removed the previous image $old_id"
  fi
  say "$lang: built $IMAGE ($new_id)"
}

cleanup () {
  if [ -n "$tmp" ]; then
    rm -rf -- "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while [ $# -gt 0 ]; do
  case $1 in
    --engine) [ $# -ge 2 ] || usage; engine=$2; shift 2 ;;
    --engine=*) engine=${1#--engine=}; shift ;;
    --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    --force) force=1; shift ;;
    --tag) [ $# -ge 2 ] || usage; tag=$2; shift 2 ;;
    --tag=*) tag=${1#--tag=}; shift ;;
    --all) all=1; shift ;;
    --list) list=1; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) printf '%s: unknown option %s\n' "$prog" "$1" >&2; usage ;;
    *) break ;;
  esac
done

case $engine in
  docker | podman | bubblewrap) ;;
  *) printf '%s: --engine must be docker, podman or bubblewrap, not %s\n' "$prog" "$engine" >&2; usage ;;
esac
case $from in
  '' | docker | podman) ;;
  *) printf '%s: --from must be docker or podman, not %s\n' "$prog" "$from" >&2; usage ;;
esac
[ -z "$from" ] || [ "$engine" = bubblewrap ] || { printf '%s: --from goes with --engine bubblewrap\n' "$prog" >&2; usage; }

if [ $list = 1 ]; then
  if [ $# != 0 ] || [ $all = 1 ] || [ $force = 1 ] || [ -n "$tag" ]; then
    usage
  fi
  list_recipes
  exit 0
fi

if [ -n "$tag" ]; then
  if [ $all = 1 ] || [ $# != 1 ] || [ $list = 1 ]; then
    usage
  fi
  case $tag in
    '' | *[!a-z0-9._/:-]*) die "--tag must be a lowercase image name like llmsbx/python:test" ;;
  esac
fi

if [ $all = 1 ]; then
  [ $# = 0 ] || usage
  # Recipe directory names are words; recipe_dir rejects anything else.
  # shellcheck disable=SC2046
  set -- $(available)
  [ $# -gt 0 ] || die "no recipes in $here"
fi
[ $# -gt 0 ] || usage

if [ "$engine" != bubblewrap ]; then
  command -v "$engine" >/dev/null 2>&1 || die "$engine is not installed"
  engine_reachable || die "cannot reach the $engine daemon ('$engine info' fails); start it first"
fi
command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed (apt-get install mmdebstrap)"

for lang in "$@"; do
  build_one "$lang"
done
