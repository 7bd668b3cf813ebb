# variance.gp - gradient-variance ratio to uniform against the training
# step, one colour per method, one line per seed, from
# DIR/variance/seed-N/variance.csv (written by `isbench variance`).
# Usage: gnuplot -e "dir='results/mnist_mlp'; methods='upper-bound loss'; \
#            files='results/mnist_mlp/variance/seed-1/variance.csv ...'" \
#            plots/variance.gp
# Writes DIR/figures/variance_ratio.{png,svg}.

load "plots/common.gp"
out = dir."/figures/"
name = system("basename ".dir)
first = word(files, 1)
# columns: step(1) ... method(3) ... ratio_to_uniform(8). The rows of
# the methods interleave, and a NaN-filtered row would break the line,
# so each method's rows are taken with awk.
rows(f, m) = sprintf("< awk -F, '$3 == \"%s\"' '%s'", m, f)

do for [fmt in "png svg"] {
    eval(fmt eq "png" ? termpng : termsvg)
    set output out."variance_ratio.".fmt
    set title name.": gradient variance relative to uniform sampling" \
        noenhanced
    set xlabel "training step (mini-batches)"
    set ylabel "variance / uniform's variance (ratio, log scale)"
    set logscale y
    eval(logytics)
    plot 1 with lines dt 2 lc rgb "#000000" title "uniform (= 1)", \
         for [f in files] for [m in methods] rows(f, m) using 1:8 \
             with linespoints pt 7 ps 0.5 lw 1.5 lc rgb colour(m) \
             title (f eq first ? m : "")
    unset output
}
