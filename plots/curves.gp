# curves.gp - training loss and test error of every method against
# on-clock seconds and epochs: the median over seeds as a line, the
# quartiles as a band, from DIR/curves.csv (written by `isbench report`).
# Usage: gnuplot -e "dir='results/mnist_mlp'; methods='uniform loss'" \
#            plots/curves.gp
# Writes DIR/figures/{train_loss_seconds,test_error_seconds,
# train_loss_epochs}.{png,svg}.

load "plots/common.gp"
data = dir."/curves.csv"
out = dir."/figures/"
name = system("basename ".dir)

# One figure: fig is the file name, ax the x axis, lo/mid/hi the quartile
# columns, ylab and xlab the axis labels.
do for [fmt in "png svg"] {
    eval(fmt eq "png" ? termpng : termsvg)

    set output out."train_loss_seconds.".fmt
    set title name.": training loss against on-clock time" noenhanced
    set xlabel "on-clock training time (s, log scale)"
    set ylabel "training loss (nats, log scale)"
    set logscale xy
    eval(logytics)
    eval(logxtics)
    plot for [m in methods] data using (xsel(m, "seconds")):5:7 \
             with filledcurves fc rgb colour(m) \
             fs transparent solid 0.18 noborder notitle, \
         for [m in methods] data using (xsel(m, "seconds")):6 \
             with lines lw 2 lc rgb colour(m) title m

    set output out."test_error_seconds.".fmt
    set title name.": test error against on-clock time" noenhanced
    set ylabel "test error (fraction misclassified)"
    unset logscale y
    set ytics auto
    plot for [m in methods] data using (xsel(m, "seconds")):8:10 \
             with filledcurves fc rgb colour(m) \
             fs transparent solid 0.18 noborder notitle, \
         for [m in methods] data using (xsel(m, "seconds")):9 \
             with lines lw 2 lc rgb colour(m) title m

    set output out."train_loss_epochs.".fmt
    set title name.": training loss against epochs" noenhanced
    set xlabel "epochs (samples trained / training-set size, log scale)"
    set ylabel "training loss (nats, log scale)"
    set logscale y
    eval(logytics)
    plot for [m in methods] data using (xsel(m, "epochs")):5:7 \
             with filledcurves fc rgb colour(m) \
             fs transparent solid 0.18 noborder notitle, \
         for [m in methods] data using (xsel(m, "epochs")):6 \
             with lines lw 2 lc rgb colour(m) title m
    unset output
}
