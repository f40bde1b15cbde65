# Checks vomsim's Kaplan-Meier estimates against R's survival package.
#
#   vomsim run scenarios/vors_la.toml --reps 1 --agents --out /tmp/km --force
#   Rscript contrib/survival/check_km.R /tmp/km
#
# With one replication, summary.csv's km_survival, km_lower and km_upper rows
# are replication 0's curve, computed by the engine; agents.csv holds the same
# youths. R's survfit (conf.type = "log", its default: Greenwood on the log
# scale) is fitted per group and read at months 1..30. Prints the largest
# absolute difference and fails if it exceeds 1e-9.
library(survival)
dir <- commandArgs(trailingOnly = TRUE)[1]
agents <- read.csv(file.path(dir, "agents.csv"))
summary_csv <- read.csv(file.path(dir, "summary.csv"))
agents$not_mediated <- agents$group != "mediated"
sets <- list(referred = agents, not_mediated = agents[agents$not_mediated, ])
for (g in unique(agents$group)) sets[[g]] <- agents[agents$group == g, ]
worst <- 0
for (g in names(sets)) {
  fit <- survfit(Surv(time_months, event) ~ 1, data = sets[[g]])
  s <- summary(fit, times = 1:30, extend = TRUE)
  for (metric in c("km_survival", "km_lower", "km_upper")) {
    r <- switch(metric, km_survival = s$surv, km_lower = s$lower, km_upper = s$upper)
    rows <- summary_csv[summary_csv$metric == metric & summary_csv$group == g, ]
    engine <- rows$mean[match(1:30, rows$month)]
    ok <- !is.na(engine) & !is.na(r)
    worst <- max(worst, abs(engine[ok] - r[ok]))
    cat(sprintf("%-18s %-12s %2d months compared\n", g, metric, sum(ok)))
  }
}
cat(sprintf("largest absolute difference: %.3g\n", worst))
if (worst > 1e-9) quit(status = 1)
