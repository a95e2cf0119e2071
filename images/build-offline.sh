#!/bin/sh
# build-offline.sh: build sandbox images from Debian packages, without a registry.
#
#   build-offline.sh [--engine docker|podman] [--force] LANG...
#   build-offline.sh [--engine docker|podman] [--force] --all
#   build-offline.sh [--engine docker|podman] [--force] --tag IMAGE LANG
#   build-offline.sh [--engine docker|podman] --list
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
tmp=

say () { printf '%s: %s\n' "$prog" "$*"; }
die () { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage () {
  printf '%s\n' \
    "usage: $prog [--engine docker|podman] [--force] LANG..." \
    "       $prog [--engine docker|podman] [--force] --all" \
    "       $prog [--engine docker|podman] [--force] --tag IMAGE LANG" \
    "       $prog [--engine docker|podman] --list" >&2
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

# image_state IMAGE HASH: up-to-date when IMAGE is what a build of the recipe
# with HASH made: it carries that hash, and its history is the import alone.
# A commit or a build onto its tag keeps the label but adds history (even
# when it changes no file): modified. outdated when the label differs or is
# missing, missing without an image.
image_state () {
  found_hash=$("$engine" image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null) ||
    { echo missing; return 0; }
  if [ "$found_hash" != "$2" ]; then
    echo outdated
  elif [ "$("$engine" history -q "$1" 2>/dev/null | wc -l)" -eq 1 ]; then
    echo up-to-date
  else
    echo modified
  fi
}

engine_reachable () {
  "$engine" info >/dev/null 2>&1
}

list_recipes () {
  reachable=0
  command -v "$engine" >/dev/null 2>&1 && engine_reachable && reachable=1
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

build_one () {
  lang=$1
  dir=$(recipe_dir "$lang")
  read_recipe "$dir/recipe.conf"
  hash=$(recipe_hash "$dir")
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
  old_id=$("$engine" image inspect --format '{{ .Id }}' "$IMAGE" 2>/dev/null || true)

  tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/llmsbx-image.XXXXXX")
  include=$(printf '%s' "$PACKAGES" | tr -s ' ' ',')

  say "$lang: building $IMAGE from Debian $suite packages: $PACKAGES"
  # The runner goes in with a hook too; without RUNNER that hook does nothing.
  runner_hook=':'
  if [ -n "$RUNNER" ]; then
    build_runner "$tmp/runner"
    # shellcheck disable=SC2016
    runner_hook='mkdir -p "$1$LLMSBX_RUNNER_DIR" && cp -p "$LLMSBX_RUNNER_STAGE"/* "$1$LLMSBX_RUNNER_DIR"/'
  fi
  say "+ mmdebstrap --variant=minbase --include=$include --customize-hook='mkdir -p \"\$1$WORKDIR\"' $suite $tmp/rootfs.tar"
  # The hooks read their values from the environment, so none is pasted into shell code.
  # Without a terminal mmdebstrap reads a sources.list from standard input: an
  # empty one makes it use its default mirror, also where CI gives no stdin.
  # shellcheck disable=SC2016
  LLMSBX_WORKDIR=$WORKDIR LLMSBX_RUNNER_DIR=$RUNNER LLMSBX_RUNNER_STAGE=$tmp/runner \
    mmdebstrap --variant=minbase --include="$include" \
    --customize-hook='mkdir -p "$1$LLMSBX_WORKDIR"' \
    --customize-hook="$runner_hook" \
    "$suite" "$tmp/rootfs.tar" </dev/null ||
    die "$lang: mmdebstrap failed; its messages above say why"

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
  docker | podman) ;;
  *) printf '%s: --engine must be docker or podman, not %s\n' "$prog" "$engine" >&2; usage ;;
esac

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

command -v "$engine" >/dev/null 2>&1 || die "$engine is not installed"
command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
engine_reachable || die "cannot reach the $engine daemon ('$engine info' fails); start it first"

for lang in "$@"; do
  build_one "$lang"
done
