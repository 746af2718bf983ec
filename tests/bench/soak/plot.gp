# gnuplot -e "dir='tests/bench/soak'" tests/bench/soak/plot.gp  -> soak.png
set terminal pngcairo size 1100,750 font ",10"
set output dir.'/soak.png'
set datafile separator ','
set key top left
set grid
set multiplot layout 2,1 title "Soak: mixed traffic at 1,000 connections, one instance (2 shared cores)"
set xlabel 'time (s)'
set ylabel 'latency (ms)'
set yrange [0:*]
set y2label 'req/s'
set y2tics
set y2range [0:*]
set ytics nomirror
plot dir.'/segments.csv' every ::1 using (($2+$3)/2):14 with linespoints lw 2 title 'p99 per segment', \
     ''                  every ::1 using (($2+$3)/2):12 with linespoints title 'p50 per segment', \
     ''                  every ::1 using (($2+$3)/2):5 axes x1y2 with lines dt 2 title 'req/s (right)'
set ylabel 'RSS (MiB)'
set y2label 'threads; household actors / 100; mailbox depth'
plot dir.'/samples.csv' every ::1 using 1:2 with lines lw 2 title 'RSS (MiB)', \
     ''                 every ::1 using 1:3 axes x1y2 with lines title 'threads (right)', \
     ''                 every ::1 using 1:($4/100) axes x1y2 with lines dt 2 title 'household actors / 100 (right)', \
     ''                 every ::1 using 1:8 axes x1y2 with points pt 7 ps 0.5 title 'max mailbox depth (right)'
unset multiplot
