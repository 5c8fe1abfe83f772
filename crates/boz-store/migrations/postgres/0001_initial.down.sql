DROP TABLE log_entries;
DROP TABLE settlements;
DROP TABLE trades;
DROP TABLE predictions;
DROP TABLE weather_forecasts;
DROP TABLE users;
