# common.gp - shared settings for every isbench figure: one fixed colour
# per method (the same in every figure of every experiment), CSV input,
# and the PNG/SVG terminals. Loaded by the other scripts in plots/.

colour(m) = m eq "uniform"       ? "#000000" : \
            m eq "upper-bound"   ? "#d55e00" : \
            m eq "loss"          ? "#0072b2" : \
            m eq "biased-IS"     ? "#009e73" : \
            m eq "biased-is"     ? "#009e73" : \
            m eq "online-bandit" ? "#cc79a7" : \
            m eq "gnorm"         ? "#e69f00" : "#777777"

set datafile separator ","
set datafile missing "nan"
set grid back lc rgb "#dddddd"
set border 3
set tics nomirror
# Axes span the data (gnuplot would widen a log axis to whole decades).
set autoscale fix
set offsets 0, 0, graph 0.03, graph 0.03
# The legend goes outside the plot area, to the right: it never covers data.
set key outside right top vertical Left reverse noenhanced samplen 2

# Log axes get 1-1.5-2-3-5-7 tics: gnuplot labels only whole decades,
# and a loss curve often spans less than one.
logtics(a) = sprintf("set format %s '%%g'; set %stics (); " . \
    "do for [e=-6:4] { set %stics add (1*10.0**e, 1.5*10.0**e, " . \
    "2*10.0**e, 3*10.0**e, 5*10.0**e, 7*10.0**e) }", a, a, a)
logytics = logtics("y")
logxtics = logtics("x")

# Select the rows of curves.csv for method m on axis ax ("seconds" or
# "epochs"): the x value there, NaN (skipped) elsewhere.
xsel(m, ax) = (strcol(1) eq m && strcol(2) eq ax) ? column(3) : NaN

# Set the terminal for format fmt ("png" or "svg") and the output file.
termpng = "set terminal pngcairo size 960,560 font 'DejaVu Sans,11'"
termsvg = "set terminal svg size 960,560 font 'DejaVu Sans,11' dynamic"
