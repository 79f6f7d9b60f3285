#!/usr/bin/env bash
# Builds the corpus of real public manifests that docs/benchmarks.md reports, from git clones of the
# repositories listed in bench/README.md, at the commits listed there. Only the files a manifest
# scanner looks at are extracted (YAML files and files named like Dockerfiles), into OUTDIR, which
# must be a temporary directory: the corpus is other projects' files and is never committed.
#   usage: real-corpus.sh CLONES OUTDIR
#   CLONES holds one git repository (a clone or a bare mirror) per project, named OWNER+NAME
#   (docker+awesome-compose, ...); each must contain the commit listed below.
set -euo pipefail
clones=${1:?usage: real-corpus.sh CLONES OUTDIR}
out=${2:?usage: real-corpus.sh CLONES OUTDIR}
mkdir -p "$out"
# OWNER+NAME  COMMIT  PATH-PREFIX (only files below it; "." for the whole repository)
corpus=(
  "docker+awesome-compose 18f59bdb09ecf520dd5758fbf90dec314baec545 ."
  "kubernetes+examples 279e8e4fe314f6cb7bc55fa3fbc21bbeaa48c0ea ."
  "docker-library+python 4f07059567fa61c80397126e8063dbbde011b794 ."
  "docker-library+postgres 6edb0a8c4def40c371514b34aef9037ec82d9110 ."
  "nginxinc+docker-nginx b430becb8f0f6b8d69e68cc73a82ea2873c38639 ."
  "GoogleCloudPlatform+microservices-demo 34ffea9175946982c3088ed84994fe6019ad6e92 ."
  "prometheus-operator+kube-prometheus 4d719f1dea8853540b3823ab1fbe6be74a9953b3 ."
  "argoproj+argo-cd 37ee0097cf851bc2dd7665fc081bbce61a7e836e manifests"
  "argoproj+argo-cd 37ee0097cf851bc2dd7665fc081bbce61a7e836e Dockerfile"
)
pattern='(\.ya?ml$|(^|/)(docker|container)file([.-][^/]*)?$|\.dockerfile$)'
for entry in "${corpus[@]}"; do
  read -r name commit prefix <<<"$entry"
  repo=$clones/$name
  [[ -d $repo/.git ]] && git_dir=$repo/.git || git_dir=$repo
  count=0
  while IFS= read -r path; do
    [[ $prefix == . || $path == "$prefix" || $path == "$prefix"/* || $path == "$prefix".* ]] || continue
    mkdir -p "$out/$name/$(dirname "$path")"
    git --git-dir "$git_dir" show "$commit:$path" >"$out/$name/$path"
    count=$((count + 1))
  done < <(git --git-dir "$git_dir" ls-tree -r --name-only "$commit" | grep -Ei "$pattern")
  echo "$name@${commit:0:7} $prefix: $count files"
done
