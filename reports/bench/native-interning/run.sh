#!/bin/bash
# Before/after figures for the native N-Triples interning (issue 22, item 5).
# "before" runs commit 60ef713 (mkdir -p $OLD; git archive 60ef713 kgnlu | tar -x -C $OLD), "after" the
# working tree. Box: 2 shared cores, load average 12-22 during the runs (see each record).
# Each bench run times kgnlu and rdflib in one process, so each ratio is same-process.
# Usage: reports/bench/native-interning/run.sh quick|full|rss   (from the repository root)
set -e
OUT=reports/bench/native-interning
OLD=${OLD:-/tmp/ni/oldrepo}
PY=.venv/bin/python
bench() {  # bench LABEL PYTHONPATH ARGS...: bench/graph_build.py with its JSON record kept under $OUT/LABEL
  local label=$1 path=$2; shift 2
  PYTHONPATH=$path $PY -c "
import runpy, sys
sys.path.pop(0)  # -c puts the working directory first: PYTHONPATH must decide which kgnlu runs
from pathlib import Path
sys.path.insert(0, 'bench')
import common
common.REPORTS = Path('$OUT/$label')
sys.argv = ['bench/graph_build.py', *sys.argv[1:]]
runpy.run_path('bench/graph_build.py', run_name='__main__')" "$@" 2>/dev/null | tail -1
}
case $1 in
  quick) for i in 1 2 3; do bench before-$i $OLD --quick; bench after-$i $PWD --quick; done ;;
  full) for i in 1 2 3; do bench before-$i $OLD; bench after-$i $PWD; done ;;
  rss)  # peak RSS of a whole build (no store) of a 4M-line file, in a child process
    [ -f /tmp/ni/b4m.nt ] || $PY -c "
import sys; sys.path.insert(0, 'bench')
from pathlib import Path
from graph_build import generate_ntriples
generate_ntriples(Path('/tmp/ni/b4m.nt'), 4_000_000)"
    [ -n "$SKIP_BEFORE" ] || PYTHONPATH=$OLD $PY $OUT/rss_child.py /tmp/ni/b4m.nt 4000000 2>/dev/null > $OUT/rss-before.json
    PYTHONPATH=$PWD $PY $OUT/rss_child.py /tmp/ni/b4m.nt 4000000 2>/dev/null > $OUT/rss-after.json ;;
esac
